"""One error tree. Every error carries a stable Face++-style ``code`` and an HTTP status.

Callers (the CLI, the HTTP layer) catch :class:`FaceprintError` and render ``code`` and
``message``; nothing below this module ever lets a raw traceback reach a user.

Every error class of faceprint is defined here, one line each, grouped by area: a class names its
parent, its ``code`` and, where it differs from its parent's, its ``http_status``. A code belongs to
the one class that names it; a class that names none shares its parent's on purpose (a
:class:`DecodeBusy` *is* a :class:`ConcurrencyLimitExceeded`). The HTTP layer has one handler for
:class:`FaceprintError`, and ``service/facepp_errors.py`` says how each code is written per endpoint.
"""

from __future__ import annotations

from typing import ClassVar


class FaceprintError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500
    source: str | None = None  # the input (a file name) the error is about, once known

    def __init_subclass__(cls, *, code: str | None = None, http_status: int | None = None, **kwargs: object) -> None:
        """``class Name(Parent, code="CODE", http_status=400)``: the code and status, where they differ from the parent's."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if http_status is not None:
            cls.http_status = http_status

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details

    def about(self, source: str) -> FaceprintError:
        """Name the input this error is about, once: the message then starts with it."""
        if self.source is None:
            self.source = source
            self.message = f"{source}: {self.message}"
        return self

    def to_dict(self) -> dict[str, object]:
        return {"error_code": self.code, "error_message": self.message, **self.details}


def tree(root: type[FaceprintError] = FaceprintError) -> list[type[FaceprintError]]:
    """``root`` and every class below it, parents before children (what tests and docs walk)."""
    out: list[type[FaceprintError]] = []
    todo = [root]
    while todo:
        cls = todo.pop(0)
        if cls not in out:
            out.append(cls)
            todo.extend(cls.__subclasses__())
    return out


# fmt: off
# -- arguments and settings -------------------------------------------------------------------
class BadInput(FaceprintError, code="BAD_ARGUMENTS", http_status=400): ...
class MissingArguments(BadInput, code="MISSING_ARGUMENTS"): ...
class CoexistenceArguments(BadInput, code="COEXISTENCE_ARGUMENTS"): ...
class VoidRequest(BadInput, code="VOID_REQUEST"): ...
class SettingsError(BadInput, code="SETTINGS_ERROR"):
    """A setting (flag, ``FACEPRINT_*`` variable or ``FACEPRINT_*_FILE``) that cannot be used."""


# -- images and the faces in them -------------------------------------------------------------
class ImageFormatError(BadInput, code="IMAGE_ERROR_UNSUPPORTED_FORMAT"): ...
class ImageFileNotFound(ImageFormatError, code="IMAGE_ERROR_FILE_NOT_FOUND"): ...
class ImageSizeError(BadInput, code="INVALID_IMAGE_SIZE"): ...
class ImageTooLarge(BadInput, code="IMAGE_FILE_TOO_LARGE"): ...
class InvalidImageUrl(BadInput, code="INVALID_IMAGE_URL"): ...
class ImageDownloadTimeout(FaceprintError, code="IMAGE_DOWNLOAD_TIMEOUT", http_status=412): ...
class NoFaceFound(BadInput, code="NO_FACE_FOUND"): ...
class TooManyFaces(BadInput, code="MULTIPLE_FACES"): ...
class LowQuality(BadInput, code="LOW_QUALITY"): ...


# -- models -----------------------------------------------------------------------------------
class ModelError(FaceprintError, code="MODEL_ERROR"): ...
class ModelNotFound(ModelError, code="MODEL_NOT_FOUND"): ...
class ModelIntegrityError(ModelError, code="MODEL_INTEGRITY_ERROR"): ...
class TorchFileError(ModelError, code="MODEL_FORMAT_ERROR"):
    """A ``.pth`` weights file that is not a readable PyTorch legacy file of plain tensors."""
class PADModelMissing(ModelNotFound, code="PAD_MODEL_NOT_INSTALLED", http_status=503): ...
class PADModelTampered(ModelIntegrityError, code="PAD_MODEL_INTEGRITY_ERROR", http_status=503): ...


# -- galleries (FaceSets) and face tokens -----------------------------------------------------
class GalleryError(FaceprintError, code="GALLERY_ERROR"): ...
class IndexUnavailable(GalleryError, code="INDEX_UNAVAILABLE", http_status=503):
    """The vector index server (Milvus) could not be reached, or did not answer in time."""
class EncryptionKeyError(GalleryError, code="ENCRYPTION_KEY_ERROR"):
    """The data directory is encrypted and no (or a wrong) key was given, or the reverse."""
class InvalidFacesetToken(BadInput, code="INVALID_FACESET_TOKEN"): ...
class InvalidOuterId(BadInput, code="INVALID_OUTER_ID"): ...
class FacesetExist(BadInput, code="FACESET_EXIST"): ...
class NewOuterIdExist(BadInput, code="NEW_OUTER_ID_EXIST"): ...
class EmptyFaceset(BadInput, code="EMPTY_FACESET"): ...
class FacesetNotEmpty(BadInput, code="FACESET_NOT_EMPTY"): ...
class FacesetQuotaExceeded(BadInput, code="FACESET_QUOTA_EXCEEDED"): ...
class InvalidFaceToken(BadInput, code="INVALID_FACE_TOKEN"): ...
class InvalidFaceTokensSize(BadInput, code="INVALID_FACE_TOKENS_SIZE"): ...
class PackMismatch(BadInput, code="PACK_MISMATCH"): ...
class InvalidIndexSpec(BadInput, code="INVALID_INDEX_SPEC"): ...


# -- video files ------------------------------------------------------------------------------
class VideoError(BadInput, code="VIDEO_ERROR"): ...
class VideoFormatError(VideoError, code="VIDEO_ERROR_UNSUPPORTED_FORMAT"):
    """Not a video container FFmpeg recognises (a text file, an image, random bytes)."""
class VideoEmpty(VideoError, code="VIDEO_ERROR_EMPTY_FILE"): ...
class VideoTruncated(VideoError, code="VIDEO_ERROR_TRUNCATED"):
    """A recognised container whose data ends early (an interrupted upload or copy)."""
class VideoCorrupt(VideoError, code="VIDEO_ERROR_CORRUPT"): ...
class NoVideoStream(VideoError, code="VIDEO_ERROR_NO_VIDEO_STREAM"):
    """The container holds no video stream (audio only, subtitles only)."""
class UnsupportedCodec(VideoError, code="VIDEO_ERROR_UNSUPPORTED_CODEC"): ...
class VideoTooLarge(VideoError, code="VIDEO_ERROR_TOO_LARGE"): ...
class VideoWorkerCrashed(VideoError, code="VIDEO_ERROR_WORKER_CRASHED"):
    """The decoding process died (a signal inside FFmpeg, killed): only that video's work is lost."""
class VideoWorkerOutOfMemory(VideoError, code="VIDEO_ERROR_WORKER_OUT_OF_MEMORY"):
    """Decoding needed more address space than the worker's limit (FACEPRINT_VIDEO_WORKER_MEMORY_MB)."""
class VideoWorkerTimeout(VideoError, code="VIDEO_ERROR_TIMEOUT"):
    """Decoding ran past the worker's wall-clock limit (FACEPRINT_VIDEO_WORKER_TIMEOUT_S)."""


# -- the worker pool (faceprint.parallel) ------------------------------------------------------
class WorkerCrashed(FaceprintError, code="WORKER_CRASHED"):
    """The worker process died (killed, out of memory, a native crash) while on this item."""
class WorkerFailed(FaceprintError, code="WORKER_ERROR"):
    """The worker raised something that is not a FaceprintError (a bug): the item fails, the worker lives on."""
class PoolClosed(FaceprintError, code="WORKER_POOL_CLOSED", http_status=503): ...


# -- video jobs (the HTTP queue) --------------------------------------------------------------
class InvalidJobId(BadInput, code="INVALID_JOB_ID"): ...
class JobNotFinished(BadInput, code="JOB_NOT_FINISHED"): ...
class AnnotatedVideoUnavailable(BadInput, code="ANNOTATED_VIDEO_UNAVAILABLE"): ...
class JobInterrupted(FaceprintError, code="JOB_INTERRUPTED"):
    """The server stopped (or lost the upload) while the job ran, too often to run it again."""


# -- liveness: refusals to verify (a failed verification is a result, not an error) -----------
class LivenessError(BadInput, code="LIVENESS_ERROR"): ...
class InvalidChallenge(LivenessError, code="INVALID_CHALLENGE"):
    """An action name we do not know, a repeated action, or too few or too many actions."""
class NonceUnknown(LivenessError, code="NONCE_UNKNOWN"):
    """No session was ever issued with this nonce (``biz_token``), or it was purged."""
class NonceReused(LivenessError, code="NONCE_REUSED"):
    """The session's nonce was already spent by an earlier verification: replay refused."""
class SessionExpired(LivenessError, code="SESSION_EXPIRED"): ...
class InvalidFrameSequence(LivenessError, code="INVALID_FRAME_SEQUENCE"):
    """Frames and timestamps that cannot be verified at all: none, mismatched counts, NaN times."""
class InvalidReference(LivenessError, code="INVALID_REFERENCE"): ...
class UnknownDetector(BadInput, code="UNKNOWN_PAD_DETECTOR"): ...


# -- the HTTP service: credentials, limits, requests ------------------------------------------
class AuthenticationError(FaceprintError, code="AUTHENTICATION_ERROR", http_status=401): ...
class AuthenticationThrottled(AuthenticationError, code="AUTHENTICATION_RATE_LIMITED", http_status=429):
    """Too many failed logins for one api_key or from one address: refused before any secret is checked."""
class AuthorizationError(FaceprintError, code="AUTHORIZATION_ERROR", http_status=403): ...
class ConcurrencyLimitExceeded(FaceprintError, code="CONCURRENCY_LIMIT_EXCEEDED", http_status=403): ...
class DecodeBusy(ConcurrencyLimitExceeded):
    """The process's decode budget (FACEPRINT_DECODE_BUDGET_MB) stayed full: retry shortly."""
class RequestTooLarge(FaceprintError, code="REQUEST_ENTITY_TOO_LARGE", http_status=413): ...
class ApiNotFound(FaceprintError, code="API_NOT_FOUND", http_status=404): ...
class RequestTimeout(FaceprintError):
    """No answer within the request timeout: Face++ has no code for it, so it is an INTERNAL_ERROR."""
class InvalidTaskId(BadInput, code="INVALID_TASK_ID"): ...


# -- the HTTP service: its own state ----------------------------------------------------------
class ServiceStateError(FaceprintError, code="SERVICE_STATE_ERROR", http_status=503):
    """The database holding keys, face tokens, rate limits and the audit chain cannot be used."""
class AuditKeyError(FaceprintError, code="AUDIT_KEY_ERROR", http_status=503):
    """No audit key, an unreadable one, or one kept inside the data directory."""
class AuditLogTampered(FaceprintError, code="AUDIT_LOG_TAMPERED", http_status=503):
    """The log does not end where its sealed head says: cut or rewritten while no server held it."""
# fmt: on
