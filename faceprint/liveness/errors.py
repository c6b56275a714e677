"""Liveness errors: each a stable code in the one :class:`~faceprint.errors.FaceprintError` tree.

These are *refusals to verify* (a bad or spent session, an unusable frame sequence). A sequence
that is verified and fails is not an error: it gives a :class:`~.verifier.LivenessResult` whose
``reasons`` carry codes from :mod:`.reasons`.
"""

from __future__ import annotations

from ..errors import BadInput


class LivenessError(BadInput):
    code = "LIVENESS_ERROR"


class InvalidChallenge(LivenessError):
    """An action name we do not know, a repeated action, or too few or too many actions."""

    code = "INVALID_CHALLENGE"


class NonceUnknown(LivenessError):
    """No session was ever issued with this nonce (``biz_token``), or it was purged."""

    code = "NONCE_UNKNOWN"


class NonceReused(LivenessError):
    """The session's nonce was already spent by an earlier verification: replay refused."""

    code = "NONCE_REUSED"


class SessionExpired(LivenessError):
    code = "SESSION_EXPIRED"


class InvalidFrameSequence(LivenessError):
    """Frames and timestamps that cannot be verified at all: none, mismatched counts, NaN times."""

    code = "INVALID_FRAME_SEQUENCE"


class InvalidReference(LivenessError):
    code = "INVALID_REFERENCE"
