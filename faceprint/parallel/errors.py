"""The pool's own errors, and how a worker's error crosses the pipe with its code intact."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FaceprintError


class WorkerCrashed(FaceprintError):
    """The worker process died (killed, out of memory, a native crash) while on this item."""

    code = "WORKER_CRASHED"
    http_status = 500


class WorkerFailed(FaceprintError):
    """The worker raised something that is not a FaceprintError (a bug): the item fails, the worker lives on."""

    code = "WORKER_ERROR"
    http_status = 500


class PoolClosed(FaceprintError):
    code = "WORKER_POOL_CLOSED"
    http_status = 503


def _by_code() -> dict[str, type[FaceprintError]]:
    out: dict[str, type[FaceprintError]] = {}
    todo: list[type[FaceprintError]] = [FaceprintError]
    while todo:
        cls = todo.pop()
        out.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return out


@dataclass(frozen=True)
class ErrorReport:
    """A FaceprintError as plain data: pickles whatever the subclass's constructor wants."""

    code: str
    message: str
    details: dict[str, object]
    source: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> ErrorReport:
        if isinstance(exc, FaceprintError):
            return cls(exc.code, exc.message, dict(exc.details), exc.source)
        return cls(WorkerFailed.code, f"{type(exc).__name__}: {exc}", {})

    def error(self) -> FaceprintError:
        """The same class (found by its code) with the same message and details."""
        kind = _by_code().get(self.code, FaceprintError)
        exc = kind.__new__(kind)
        Exception.__init__(exc, self.message)
        exc.message, exc.details, exc.source = self.message, dict(self.details), self.source
        if kind is FaceprintError and self.code != FaceprintError.code:
            exc.code = self.code  # an error class this process does not know: keep its code
        return exc
