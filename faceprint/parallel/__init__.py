"""Use every core: inference worker processes, each with its own engine (docs/performance.md)."""

from .batch import embed_many, embed_outcomes
from .errors import PoolClosed, WorkerCrashed, WorkerFailed
from .pool import EnginePool, Outcome, PoolConfig
from .sizing import cores, default_workers, worker_threads
from .worker import WorkerInfo

__all__ = [
    "EnginePool",
    "Outcome",
    "PoolClosed",
    "PoolConfig",
    "WorkerCrashed",
    "WorkerFailed",
    "WorkerInfo",
    "cores",
    "default_workers",
    "embed_many",
    "embed_outcomes",
    "worker_threads",
]
