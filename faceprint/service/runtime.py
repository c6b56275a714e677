"""Everything a request may need, built once per app and reached through ``Depends(runtime)``.

The gallery store URL decides where the service state lives too (:mod:`~faceprint.service.state`):
with ``postgresql://...`` a node keeps nothing of its own but video jobs and caches, so several
nodes can serve one PostgreSQL (and one Milvus) behind a load balancer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from fastapi import Request

from ..engine import EngineConfig, FaceEngine
from ..gallery import GalleryConfig, GalleryService
from ..gallery.service import default_data_dir
from ..parallel import EnginePool, PoolConfig
from ..redact import mask_url
from . import legacy_tokens
from .audit import Audit
from .batching import MicroBatcher
from .config import ServiceConfig
from .facesets import Facesets
from .keys import KeyStore
from .metrics import Metrics
from .ratelimit import Limiter
from .recognition import Recognition
from .state import ServiceState, open_state
from .tasks import Tasks
from .tokens import TokenStore

log = logging.getLogger("faceprint.service")


@dataclass
class Runtime:
    config: ServiceConfig
    data_dir: Path
    engine: FaceEngine
    gallery: GalleryService
    state: ServiceState
    tokens: TokenStore
    keys: KeyStore
    limiter: Limiter
    audit: Audit
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
        gallery = GalleryService(
            GalleryConfig(data_dir=data_dir, pack=engine.pack.name, store=config.store, index=config.index), engine=engine
        )
        try:
            state = open_state(gallery.store_url, data_dir)
        except BaseException:
            gallery.close()
            raise
        log.info(
            "faceprint serve: gallery store %s, index %s, service state in %s, node-local files in %s",
            mask_url(gallery.store_url), mask_url(gallery.index_url, hide_user=True), state.describe(), data_dir,
        )  # fmt: skip
        try:
            legacy_tokens.adopt(state, gallery)  # migration 0002: face tokens of an older faceprint move in once
        except BaseException:
            state.close()
            gallery.close()
            raise
        tokens = TokenStore(gallery, config.token_ttl_s)
        metrics = Metrics(gallery, tokens)
        try:
            pool = inference_pool(config, engine)
        except BaseException:
            state.close()
            gallery.close()
            raise
        batcher = MicroBatcher(engine, config.batching, metrics.batch_size.observe, pool)
        rt = cls(
            config=config, data_dir=data_dir, engine=engine, gallery=gallery, state=state, tokens=tokens, keys=KeyStore(state),
            limiter=state.limiter(), audit=state.audit(fsync=config.audit_fsync), batcher=batcher,
            recognition=Recognition(config, batcher, tokens, gallery),
            facesets=Facesets(config, gallery, engine.pack.name, engine.dim), tasks=Tasks(), metrics=metrics,
        )  # fmt: skip
        try:
            rt.audit.startup_check()  # a chain cut or rewritten while no server held it: refuse to extend it
        except BaseException:
            rt.close()
            raise
        rt._purger = threading.Thread(target=rt._purge_loop, name="faceprint-purge", daemon=True)
        rt._purger.start()
        return rt

    def _purge_loop(self) -> None:
        while True:
            try:
                n = self.tokens.purge()
                if n:
                    log.info("purged expired face tokens", extra={"purged": n})
            except Exception:
                log.exception("face token purge failed")
            if self._stop.wait(self.config.purge_interval_s):
                return

    def close(self) -> None:
        self._stop.set()
        self.batcher.close()
        if self.batcher.pool is not None:
            self.batcher.pool.close()
        self.tasks.close()
        self.audit.close()
        self.tokens.close()
        self.keys.close()
        self.gallery.close()
        self.state.close()


def inference_pool(config: ServiceConfig, engine: FaceEngine) -> EnginePool | None:
    """The worker processes detect, compare and search run in (None: one worker, this process)."""
    if config.workers <= 1:
        return None
    log.info("faceprint serve: %d inference worker processes", config.workers)
    return EnginePool(PoolConfig(workers=config.workers, engine=replace(engine.config, threads=None)))


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


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
