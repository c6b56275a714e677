"""The connection to Milvus and the collection-level calls the backend makes: DDL, compaction, counts.

Every Milvus or gRPC error is turned into a faceprint error with a stable code by :meth:`MilvusConnection.talking`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from hashlib import sha256
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ...errors import GalleryError, IndexUnavailable
from .config import MilvusAddress
from .plan import MilvusPlan, spec_from_code

if TYPE_CHECKING:
    from ...gallery.types import FaceSet

try:
    import grpc
    from pymilvus import DataType, MilvusClient
    from pymilvus.client.types import Status
    from pymilvus.exceptions import MilvusException
except ImportError:  # pragma: no cover - the scale extra is not installed
    MilvusClient = None

log = logging.getLogger(__name__)
R = TypeVar("R")

PREFIX = "faceprint_"
ID, VECTOR = "id", "vector"
WRITE_BYTES = 8 << 20  # float32 bytes per insert/upsert request
COMPACT_WAIT_S = 120.0
COLLECTION_NOT_FOUND = 100  # Milvus's error code (cluster and Lite)


def alias_of(token: str) -> str:
    """``faceprint_<token>``; a token with characters a collection name cannot hold is hashed."""
    safe = token if re.fullmatch(r"[A-Za-z0-9]{1,64}", token) else "h" + sha256(token.encode()).hexdigest()[:40]
    return PREFIX + safe


def spec_of(name: str) -> str | None:
    """The spec a physical collection was built with, read from its name."""
    parts = name.split("__")
    return spec_from_code(parts[1]) if len(parts) == 3 and name.startswith(PREFIX) else None


def collection_gone(exc: BaseException) -> bool:
    """True for Milvus's "collection not found" (the gallery's collection was dropped behind our back)."""
    return isinstance(exc, MilvusException) and exc.code == COLLECTION_NOT_FOUND


class MilvusConnection:
    """One lazily opened Milvus client, and the calls on whole collections."""

    def __init__(self, address: MilvusAddress, compact_wait_s: float = COMPACT_WAIT_S) -> None:
        if MilvusClient is None:
            raise GalleryError("the Milvus index needs pymilvus: pip install 'faceprint[scale]'")
        self.address = address
        self.compact_wait_s = compact_wait_s
        self._client: Any = None
        self._lite = False
        self._lock = threading.Lock()

    def client(self) -> MilvusClient:
        """The connection, opened on first use (so a node starts, and answers 503, while Milvus is down)."""
        with self._lock:
            if self._client is None:
                a = self.address
                client = MilvusClient(uri=a.uri, token=a.token, db_name=a.db_name, timeout=a.timeout, dedicated=True)
                self._lite = client.get_server_version(timeout=a.timeout).startswith("milvus_lite")
                self._client = client
            return self._client

    @property
    def lite(self) -> bool:
        """Whether the server is Milvus Lite (known once connected)."""
        self.client()
        return self._lite

    @property
    def erase_mode(self) -> str:
        self.client()
        return self.address.erase or ("rewrite" if self._lite else "compact")

    def reset(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                client.close()

    def retrying(self, what: str, fn: Callable[[], R]) -> R:
        """``fn()`` under :meth:`talking`, once more on a new connection if the first was dropped
        (a server's GOAWAY, a restart): for calls that are safe to repeat (catching up, search, erasure)."""
        try:
            with self.talking(what):
                return fn()
        except IndexUnavailable:
            log.info("Milvus at %s: the connection was dropped during %s; trying once more on a new one", self.address.uri, what)
            with self.talking(what):
                return fn()

    @contextmanager
    def talking(self, what: str) -> Iterator[None]:
        """Milvus and gRPC errors become faceprint errors with stable codes."""
        try:
            yield
        except MilvusException as exc:
            if exc.code == Status.CONNECT_FAILED or "DEADLINE_EXCEEDED" in exc.message or "UNAVAILABLE" in exc.message:
                self.reset()
                raise IndexUnavailable(f"Milvus at {self.address.uri} did not answer ({what}): {exc.message}", index=self.address.uri) from None
            raise GalleryError(f"Milvus refused {what}: {exc.message}", milvus_code=exc.code) from None
        except grpc.RpcError as exc:
            self.reset()
            raise IndexUnavailable(f"Milvus at {self.address.uri} did not answer ({what}): {exc}", index=self.address.uri) from None

    def current(self, token: str) -> str | None:
        """The physical collection the gallery's alias points at, or None."""
        client, alias = self.client(), alias_of(token)
        if not client.has_collection(alias, timeout=self.address.timeout):
            return None
        return str(client.describe_alias(alias, timeout=self.address.timeout)["collection_name"])

    def create_collection(self, name: str, dim: int, plan: MilvusPlan) -> None:
        client = self.client()
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False, description="faceprint gallery")
        schema.add_field(ID, DataType.INT64, is_primary=True)
        schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dim)
        index = client.prepare_index_params()
        index.add_index(field_name=VECTOR, index_type=plan.index_type, metric_type="IP", params=dict(plan.params))
        client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong", timeout=self.address.write_timeout)

    def drop_others(self, alias: str, keep: str | None) -> None:
        """Drop the gallery's physical collections other than ``keep`` (the old one, or a crashed rebuild's)."""
        client = self.client()
        for name in client.list_collections(timeout=self.address.timeout):
            if name.startswith(alias + "__") and name != keep:
                client.drop_collection(name, timeout=self.address.write_timeout)

    def compact(self, name: str) -> bool:
        """Flush, L0 compaction, forced mix compaction; True if both finished within ``compact_wait_s``."""
        client, t = self.client(), self.address.write_timeout
        client.flush(name, timeout=t)
        done = True
        for l0 in (True, False):
            try:
                job = client.compact(name, is_l0=l0, timeout=t)
            except MilvusException as exc:
                if l0:  # a server without L0 segments (before 2.4): deletes already sit in deltalogs
                    log.info("Milvus: no L0 compaction for %s (%s)", name, exc.message)
                    continue
                raise
            done = self._wait_compaction(job) and done
        return done

    def _wait_compaction(self, job: int) -> bool:
        end = time.monotonic() + self.compact_wait_s
        while True:
            state = str(self.client().get_compaction_state(job, timeout=self.address.timeout))
            if state.endswith("Completed"):
                return True
            if time.monotonic() > end:
                log.warning("Milvus compaction %s still %s after %.0fs; it finishes in the background", job, state, self.compact_wait_s)
                return False
            time.sleep(0.5)

    def count(self, faceset: FaceSet) -> int:
        """Entities Milvus holds for the gallery (a strong ``count(*)``; for checks and benchmarks)."""
        with self.talking("count"):
            rows = self.client().query(
                alias_of(faceset.token), filter="", output_fields=["count(*)"], consistency_level="Strong",
                timeout=self.address.timeout,
            )  # fmt: skip
            return int(rows[0]["count(*)"])


def row_batches(ids: np.ndarray, vecs: np.ndarray, dim: int) -> Iterator[list[dict[str, Any]]]:
    step = max(1, WRITE_BYTES // (4 * dim))
    for a in range(0, len(ids), step):
        yield [{ID: i, VECTOR: v} for i, v in zip(ids[a : a + step].tolist(), vecs[a : a + step], strict=True)]


