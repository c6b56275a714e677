"""Run one function in several threads released together, as nodes starting at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def together(n: int, fn: Callable[[], T]) -> tuple[list[T], list[BaseException]]:
    """Call ``fn`` in ``n`` threads that pass one barrier first; their results and their errors."""
    results: list[T] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        barrier.wait()
        try:
            results.append(fn())
        except BaseException as exc:  # returned to the test, which asserts on it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
