"""Service errors: the Face++ v3 codes that only an HTTP API raises. They join the one tree."""

from __future__ import annotations

from ..errors import BadInput, FaceprintError


class MissingArguments(BadInput):
    code = "MISSING_ARGUMENTS"


class CoexistenceArguments(BadInput):
    code = "COEXISTENCE_ARGUMENTS"


class AuthenticationError(FaceprintError):
    code = "AUTHENTICATION_ERROR"
    http_status = 401


class AuthenticationThrottled(AuthenticationError):
    """Too many failed logins for one api_key or from one address: refused before any secret is checked."""

    code = "AUTHENTICATION_RATE_LIMITED"
    http_status = 429


class AuthorizationError(FaceprintError):
    code = "AUTHORIZATION_ERROR"
    http_status = 403


class ConcurrencyLimitExceeded(FaceprintError):
    code = "CONCURRENCY_LIMIT_EXCEEDED"
    http_status = 403


class RequestTooLarge(FaceprintError):
    code = "REQUEST_ENTITY_TOO_LARGE"
    http_status = 413


class ApiNotFound(FaceprintError):
    code = "API_NOT_FOUND"
    http_status = 404


class RequestTimeout(FaceprintError):
    code = "INTERNAL_ERROR"
    http_status = 500


class InvalidImageUrl(BadInput):
    code = "INVALID_IMAGE_URL"


class ImageDownloadTimeout(FaceprintError):
    code = "IMAGE_DOWNLOAD_TIMEOUT"
    http_status = 412


class EmptyFaceset(BadInput):
    code = "EMPTY_FACESET"


class FacesetNotEmpty(BadInput):
    code = "FACESET_NOT_EMPTY"


class NewOuterIdExist(BadInput):
    code = "NEW_OUTER_ID_EXIST"


class InvalidFaceTokensSize(BadInput):
    code = "INVALID_FACE_TOKENS_SIZE"


class FacesetQuotaExceeded(BadInput):
    code = "FACESET_QUOTA_EXCEEDED"


class InvalidTaskId(BadInput):
    code = "INVALID_TASK_ID"


class VoidRequest(BadInput):
    code = "VOID_REQUEST"


class ServiceStateError(FaceprintError):
    """The database holding keys, face tokens, rate limits and the audit chain cannot be used."""

    code = "SERVICE_STATE_ERROR"
    http_status = 503
