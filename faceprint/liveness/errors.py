"""Liveness errors, by their old import path: every class is defined in :mod:`faceprint.errors`.

These are *refusals to verify* (a bad or spent session, an unusable frame sequence). A sequence
that is verified and fails is not an error: it gives a :class:`~.verifier.LivenessResult` whose
``reasons`` carry codes of :class:`~.verifier.Reason`.
"""

from __future__ import annotations

from ..errors import (
    InvalidChallenge,
    InvalidFrameSequence,
    InvalidReference,
    LivenessError,
    NonceReused,
    NonceUnknown,
    SessionExpired,
)

__all__ = ["InvalidChallenge", "InvalidFrameSequence", "InvalidReference", "LivenessError", "NonceReused", "NonceUnknown", "SessionExpired"]
