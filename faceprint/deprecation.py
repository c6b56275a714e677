"""Old names kept as deprecated aliases: one spelling per concept (``enroll``, ``analyze``), the other still works."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def alias(new: F, old: str) -> F:
    """``new`` under its old name ``old``, warning (DeprecationWarning) at each call."""

    @functools.wraps(new)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"{old} is deprecated; use {new.__name__}", DeprecationWarning, stacklevel=2)
        return new(*args, **kwargs)

    wrapper.__name__ = old
    return wrapper  # type: ignore[return-value]
