"""The pool's errors (defined in the one tree, faceprint.errors), and how a worker's error crosses the pipe with its code intact."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FaceprintError, PoolClosed, WorkerCrashed, WorkerFailed, tree

__all__ = ["ErrorReport", "PoolClosed", "WorkerCrashed", "WorkerFailed"]


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
            object.__setattr__(exc, "code", self.code)  # an error class this process does not know: keep its code
        return exc


def _by_code() -> dict[str, type[FaceprintError]]:
    out: dict[str, type[FaceprintError]] = {}
    for cls in tree():
        out.setdefault(cls.code, cls)
    return out
