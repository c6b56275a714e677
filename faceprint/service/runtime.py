"""Everything a request may need, built once per app and reached through ``Depends(runtime)``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from pathlib import Path

from fastapi import Request

from ..engine import EngineConfig, FaceEngine
from ..gallery import GalleryConfig, GalleryService
from ..gallery.service import default_data_dir
from .audit import AuditLog
from .batching import MicroBatcher
from .config import ServiceConfig
from .facesets import Facesets
from .keys import KeyStore
from .metrics import Metrics
from .ratelimit import RateLimiter
from .recognition import Recognition
from .tasks import Tasks
from .tokens import TokenStore

log = logging.getLogger("faceprint.service")


@dataclass
class Runtime:
    config: ServiceConfig
    data_dir: Path
    engine: FaceEngine
    gallery: GalleryService
    tokens: TokenStore
    keys: KeyStore
    limiter: RateLimiter
    audit: AuditLog
    batcher: MicroBatcher
    recognition: Recognition
    facesets: Facesets
    tasks: Tasks
    metrics: Metrics
    _stop: threading.Event = field(default_factory=threading.Event)
    _purger: threading.Thread | None = None

    @classmethod
    def build(cls, config: ServiceConfig) -> Runtime:
        data_dir = Path(config.data_dir or default_data_dir())
        data_dir.mkdir(parents=True, exist_ok=True)
        engine = FaceEngine(config.pack, EngineConfig(pack=config.pack, threads=config.threads, limits=config.images))
        gallery = GalleryService(GalleryConfig(data_dir=data_dir, pack=engine.pack.name), engine=engine)
        tokens = TokenStore(data_dir, gallery.cipher, config.token_ttl_s)
        metrics = Metrics(gallery, tokens)
        batcher = MicroBatcher(engine, config.batching, metrics.batch_size.observe)
        rt = cls(
            config=config, data_dir=data_dir, engine=engine, gallery=gallery, tokens=tokens, keys=KeyStore(data_dir),
            limiter=RateLimiter(), audit=AuditLog(data_dir, fsync=config.audit_fsync), batcher=batcher,
            recognition=Recognition(config, batcher, tokens, gallery),
            facesets=Facesets(config, gallery, tokens, engine.pack.name, engine.dim), tasks=Tasks(), metrics=metrics,
        )  # fmt: skip
        rt._purger = threading.Thread(target=rt._purge_loop, name="faceprint-purge", daemon=True)
        rt._purger.start()
        return rt

    def _purge_loop(self) -> None:
        while True:
            try:
                n = self.tokens.purge()
                if n:
                    log.info("purged expired face tokens", extra={"purged": n})
            except Exception:  # noqa: BLE001 - a failed sweep is retried on the next tick
                log.exception("face token purge failed")
            if self._stop.wait(self.config.purge_interval_s):
                return

    def close(self) -> None:
        self._stop.set()
        self.batcher.close()
        self.tasks.close()
        self.audit.close()
        self.tokens.close()
        self.keys.close()
        self.gallery.close()


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


T = TypeVar("T")
_attach_lock = threading.Lock()


def attached(rt: Runtime, name: str, factory: Callable[[Runtime], T]) -> T:
    """A per-app service built on first use and kept on the runtime object under ``name``."""
    with _attach_lock:
        svc = getattr(rt, name, None)
        if svc is None:
            svc = factory(rt)
            object.__setattr__(rt, name, svc)
        return svc


def detached(rt: Runtime, name: str) -> object | None:
    """Take the service kept under ``name`` off the runtime object, if there is one."""
    with _attach_lock:
        svc = getattr(rt, name, None)
        if svc is not None:
            object.__delattr__(rt, name)
        return svc
