"""The service's errors, by their old import path: every class is defined in :mod:`faceprint.errors`.

New code imports from ``faceprint.errors``; this module only keeps ``from .errors import ...`` working.
"""

from __future__ import annotations

from ..errors import (
    ApiNotFound,
    AuthenticationError,
    AuthenticationThrottled,
    AuthorizationError,
    CoexistenceArguments,
    ConcurrencyLimitExceeded,
    EmptyFaceset,
    FacesetNotEmpty,
    FacesetQuotaExceeded,
    ImageDownloadTimeout,
    InvalidFaceTokensSize,
    InvalidImageUrl,
    InvalidTaskId,
    MissingArguments,
    NewOuterIdExist,
    RequestTimeout,
    RequestTooLarge,
    ServiceStateError,
    VoidRequest,
)

__all__ = [
    "ApiNotFound",
    "AuthenticationError",
    "AuthenticationThrottled",
    "AuthorizationError",
    "CoexistenceArguments",
    "ConcurrencyLimitExceeded",
    "EmptyFaceset",
    "FacesetNotEmpty",
    "FacesetQuotaExceeded",
    "ImageDownloadTimeout",
    "InvalidFaceTokensSize",
    "InvalidImageUrl",
    "InvalidTaskId",
    "MissingArguments",
    "NewOuterIdExist",
    "RequestTimeout",
    "RequestTooLarge",
    "ServiceStateError",
    "VoidRequest",
]
