"""A process-wide budget of bytes being decoded at once: memory known before it is spent.

    with holding():                                  # a request (the service's middleware), a library call
        with decode_budget().reserve(cost) as r:     # waits up to wait_s, else CONCURRENCY_LIMIT_EXCEEDED
            pixels = decode(...)
            r.keep(pixels.nbytes)                    # still reserved until holding() ends
        ...detect on pixels...

Every image decode reserves what its header says it will cost (see :func:`faceprint.image.decode_cost`)
before a pixel is decoded. While the reservations in flight would pass the budget, a new one waits
briefly for others to finish, then is refused with ``CONCURRENCY_LIMIT_EXCEEDED``; one larger than
the whole budget is refused at once (``IMAGE_FILE_TOO_LARGE``). When the decode ends, the
intermediates' share goes back at once and the decoded pixels' share (:meth:`Reservation.keep`)
stays reserved until the enclosing :func:`holding` scope ends: the pixels are still in memory while
the detector runs, so they still count. Without a scope, everything goes back when the decode ends.
When the last reservation in flight ends, freed heap is handed back to the system (glibc
``malloc_trim``), so a burst does not stay resident.

Settings come from the environment on first use: ``FACEPRINT_DECODE_BUDGET_MB`` (512) and
``FACEPRINT_DECODE_WAIT_S`` (2).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from .errors import DecodeBusy, ImageTooLarge

MB = 1 << 20
# A reservation this big, once released with nothing else in flight, trims the heap, and trims it
# again TRIM_DELAY_S later (the request's own copies of the pixels are gone by then).
TRIM_AFTER = 16 * MB
TRIM_DELAY_S = 1.0


@dataclass(frozen=True)
class BudgetConfig:
    budget_mb: int = 512
    wait_s: float = 2.0

    @classmethod
    def from_env(cls) -> BudgetConfig:
        mb, wait = (
            os.environ.get("FACEPRINT_DECODE_BUDGET_MB"),
            os.environ.get("FACEPRINT_DECODE_WAIT_S"),
        )
        return cls(
            int(mb) if mb else cls.budget_mb, float(wait) if wait else cls.wait_s
        )


def _trimmer() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        fn: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc
        return None
    return fn


@dataclass
class Hold:
    """Bytes kept reserved until a scope ends (a request, a library call), over any budgets."""

    kept: list[tuple[DecodeBudget, int]] = field(default_factory=list)
    closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, budget: DecodeBudget, nbytes: int) -> bool:
        """Keep ``nbytes`` of ``budget`` until :meth:`release`; False once released (the caller releases them)."""
        with self._lock:
            if self.closed:
                return False
            self.kept.append((budget, nbytes))
            return True

    def release(self) -> None:
        with self._lock:
            self.closed, kept, self.kept = True, self.kept, []
        for budget, nbytes in kept:
            budget.release(nbytes)


_hold: ContextVar[Hold | None] = ContextVar("faceprint_decode_hold", default=None)


@contextmanager
def holding() -> Iterator[Hold]:
    """A scope whose decodes keep their pixels' reservations until it ends (threads started inside share it)."""
    hold = Hold()
    token = _hold.set(hold)
    try:
        yield hold
    finally:
        _hold.reset(token)
        hold.release()


@dataclass
class Reservation:
    """One decode's reservation; :meth:`keep` marks the part that outlives the decode (the result)."""

    nbytes: int
    kept: int = 0

    def keep(self, nbytes: int) -> None:
        self.kept = max(0, min(int(nbytes), self.nbytes))


class DecodeBudget:
    def __init__(self, config: BudgetConfig) -> None:
        self.config = config
        self.capacity = config.budget_mb * MB
        self.in_use = 0
        self.peak = 0  # the most ever reserved at once
        self._cond = threading.Condition()
        self._trim = _trimmer()
        self._timer: threading.Timer | None = None

    @contextmanager
    def reserve(self, nbytes: int, what: str = "this image") -> Iterator[Reservation]:
        if nbytes > self.capacity:
            raise ImageTooLarge(f"decoding {what} needs {nbytes // MB} MB; the decode budget is {self.config.budget_mb} MB",
                                limit=self.capacity)  # fmt: skip
        deadline = time.monotonic() + self.config.wait_s
        with self._cond:
            while self.in_use + nbytes > self.capacity:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DecodeBusy(f"{self.in_use // MB} MB of the {self.config.budget_mb} MB decode budget are in use;"
                                     " retry shortly")  # fmt: skip
                self._cond.wait(left)
            self.in_use += nbytes
            self.peak = max(self.peak, self.in_use)
        r = Reservation(nbytes)
        try:
            yield r
        finally:
            hold = _hold.get()
            kept = r.kept if r.kept and hold is not None and hold.add(self, r.kept) else 0
            self.release(nbytes - kept, big=nbytes >= TRIM_AFTER)

    def release(self, nbytes: int, big: bool | None = None) -> None:
        """Give ``nbytes`` back; a large release that leaves nothing in flight trims the heap."""
        with self._cond:
            self.in_use -= nbytes
            idle = self.in_use == 0
            self._cond.notify_all()
        if idle and (nbytes >= TRIM_AFTER if big is None else big):
            self._trim_soon()

    def _trim_soon(self) -> None:
        """Hand freed heap back now, and again once the request that decoded has finished with its copies."""
        trim = self._trim
        if trim is None:
            return
        trim(0)
        with self._cond:
            if self._timer is not None:  # the last trim comes TRIM_DELAY_S after the last release
                self._timer.cancel()
            self._timer = threading.Timer(TRIM_DELAY_S, lambda: self.in_use == 0 and trim(0))
            self._timer.daemon = True
            self._timer.start()


_lock = threading.Lock()
_budget: DecodeBudget | None = None


def decode_budget() -> DecodeBudget:
    """The process's budget, read from the environment on first use."""
    global _budget
    with _lock:
        if _budget is None:
            _budget = DecodeBudget(BudgetConfig.from_env())
        return _budget


def configure(config: BudgetConfig) -> DecodeBudget:
    """Replace the process's budget (the CLI and tests); decodes in flight keep the old one."""
    global _budget
    with _lock:
        _budget = DecodeBudget(config)
        return _budget
