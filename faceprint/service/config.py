"""Every knob of the service in one frozen object; ``faceprint serve`` fills it from flags and env."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..image import ImageLimits

DAY = 86400.0


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class UrlPolicy:
    """``image_url`` fetching: off unless hosts are allow-listed (closes SSRF by default)."""

    allow_hosts: tuple[str, ...] = ()  # exact host names or IP literals; empty: image_url is refused
    allow_private: bool = False  # also allow loopback/link-local/private addresses of allow-listed hosts
    max_bytes: int = 10 * 1024 * 1024  # the whole body
    timeout_s: float = 5.0  # each connect, read or write
    deadline_s: float = 10.0  # the whole fetch, however the peer paces its bytes

    @property
    def enabled(self) -> bool:
        return bool(self.allow_hosts)


@dataclass(frozen=True)
class BatchPolicy:
    enabled: bool = True
    window_ms: float = 4.0  # how long a worker waits for more requests after the first
    max_batch: int = 8  # images per shared engine call
    workers: int = 2  # batching threads: one group computes while the next gathers
    detect_together: bool = False  # one detector call per group (GPU) or per image (measured faster on CPU)


@dataclass(frozen=True)
class ServiceConfig:
    data_dir: Path | None = None  # None: $FACEPRINT_DATA, else ./faceprint-data (node-local files)
    store: str | None = None  # sqlite:///path or postgresql://...; None: $FACEPRINT_STORE, else SQLite in data_dir
    index: str | None = None  # faiss or milvus://host:19530; None: $FACEPRINT_INDEX, else faiss
    pack: str | None = None  # None: $FACEPRINT_PACK or the default pack
    threads: int | None = None  # onnxruntime threads per model call in this process; None: all cores up to 4
    # Inference worker processes that detect, compare and search run in (1 intra-op thread each);
    # 1: all in this process. `faceprint serve` defaults to one per core.
    workers: int = 1
    token_ttl_s: float = 3 * DAY  # face tokens from detect expire unless added to a faceset
    purge_interval_s: float = 60.0  # how often expired face tokens are deleted
    max_body_bytes: int = 12 * 1024 * 1024  # whole request; larger gets 413
    request_timeout_s: float = 30.0  # a request still running after this gets 500 INTERNAL_ERROR: timeout
    max_result_count: int = 100  # return_result_count upper bound (Face++: 5)
    faceset_capacity: int = 1_000_000  # faces per faceset (Face++: 10,000)
    max_facesets: int = 10_000  # facesets per tenant
    max_add_tokens: int = 5  # face tokens per create/addface call, as Face++ (INVALID_FACE_TOKENS_SIZE above)
    max_remove_tokens: int = 1_000  # face tokens per removeface call, as Face++
    analyze_faces: int = 5  # faces per image that get landmarks and attributes, largest first (as Face++)
    images: ImageLimits = field(default_factory=lambda: ImageLimits(max_bytes=10 * 1024 * 1024, max_side=4096))
    urls: UrlPolicy = field(default_factory=UrlPolicy)
    batching: BatchPolicy = field(default_factory=BatchPolicy)
    audit_fsync: bool = False  # fsync every audit line (slower; survives power loss)
    lenient_attributes: bool = False  # attributes we cannot compute: refuse (False) or omit and list them (True)
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API (CORS); empty: CORS off

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceConfig:
        """Defaults, then ``FACEPRINT_TOKEN_TTL`` / ``FACEPRINT_PURGE_INTERVAL`` (seconds) and
        ``FACEPRINT_FACESET_CAPACITY`` (faces), ``FACEPRINT_CORS_ORIGINS`` (comma-separated), then overrides.
        (``store`` / ``index`` left None fall back to ``FACEPRINT_STORE`` / ``FACEPRINT_INDEX`` in GalleryService.)"""
        base: dict[str, object] = {
            "token_ttl_s": _env_float("FACEPRINT_TOKEN_TTL", 3 * DAY),
            "purge_interval_s": _env_float("FACEPRINT_PURGE_INTERVAL", 60.0),
            "cors_origins": tuple(o.strip() for o in os.environ.get("FACEPRINT_CORS_ORIGINS", "").split(",") if o.strip()),
            "faceset_capacity": int(_env_float("FACEPRINT_FACESET_CAPACITY", cls.faceset_capacity)),
        }
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)  # type: ignore[arg-type]
