"""One error tree. Every error carries a stable Face++-style ``code`` and an HTTP status.

Callers (the CLI, the HTTP layer) catch :class:`FaceprintError` and render ``code`` and
``message``; nothing below this module ever lets a raw traceback reach a user.
"""

from __future__ import annotations


class FaceprintError(Exception):
    code = "INTERNAL_ERROR"
    http_status = 500
    source: str | None = None  # the input (a file name) the error is about, once known

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


class BadInput(FaceprintError):
    code = "BAD_ARGUMENTS"
    http_status = 400


class SettingsError(BadInput):
    """A setting (flag, ``FACEPRINT_*`` variable or ``FACEPRINT_*_FILE``) that cannot be used."""

    code = "SETTINGS_ERROR"


class ImageFormatError(BadInput):
    code = "IMAGE_ERROR_UNSUPPORTED_FORMAT"


class ImageFileNotFound(ImageFormatError):
    code = "IMAGE_ERROR_FILE_NOT_FOUND"


class ImageSizeError(BadInput):
    code = "INVALID_IMAGE_SIZE"


class ImageTooLarge(BadInput):
    code = "IMAGE_FILE_TOO_LARGE"


class DecodeBusy(FaceprintError):
    """The process's decode budget (FACEPRINT_DECODE_BUDGET_MB) stayed full: retry shortly."""

    code = "CONCURRENCY_LIMIT_EXCEEDED"
    http_status = 403


class NoFaceFound(BadInput):
    code = "NO_FACE_FOUND"


class TooManyFaces(BadInput):
    code = "MULTIPLE_FACES"


class LowQuality(BadInput):
    code = "LOW_QUALITY"


class ModelError(FaceprintError):
    code = "MODEL_ERROR"


class ModelNotFound(ModelError):
    code = "MODEL_NOT_FOUND"


class ModelIntegrityError(ModelError):
    code = "MODEL_INTEGRITY_ERROR"


# -- galleries (FaceSets) -------------------------------------------------------------------
class GalleryError(FaceprintError):
    code = "GALLERY_ERROR"


class InvalidFacesetToken(BadInput):
    code = "INVALID_FACESET_TOKEN"


class InvalidOuterId(BadInput):
    code = "INVALID_OUTER_ID"


class FacesetExist(BadInput):
    code = "FACESET_EXIST"


class InvalidFaceToken(BadInput):
    code = "INVALID_FACE_TOKEN"


class PackMismatch(BadInput):
    code = "PACK_MISMATCH"


class InvalidIndexSpec(BadInput):
    code = "INVALID_INDEX_SPEC"


class IndexUnavailable(GalleryError):
    """The vector index server (Milvus) could not be reached, or did not answer in time."""

    code = "INDEX_UNAVAILABLE"
    http_status = 503


class EncryptionKeyError(GalleryError):
    """The data directory is encrypted and no (or a wrong) key was given, or the reverse."""

    code = "ENCRYPTION_KEY_ERROR"


# -- video ------------------------------------------------------------------------------------
class VideoError(BadInput):
    code = "VIDEO_ERROR"


class VideoFormatError(VideoError):
    """Not a video container FFmpeg recognises (a text file, an image, random bytes)."""

    code = "VIDEO_ERROR_UNSUPPORTED_FORMAT"


class VideoEmpty(VideoError):
    code = "VIDEO_ERROR_EMPTY_FILE"


class VideoTruncated(VideoError):
    """A recognised container whose data ends early (an interrupted upload or copy)."""

    code = "VIDEO_ERROR_TRUNCATED"


class VideoCorrupt(VideoError):
    code = "VIDEO_ERROR_CORRUPT"


class NoVideoStream(VideoError):
    """The container holds no video stream (audio only, subtitles only)."""

    code = "VIDEO_ERROR_NO_VIDEO_STREAM"


class UnsupportedCodec(VideoError):
    code = "VIDEO_ERROR_UNSUPPORTED_CODEC"


class VideoTooLarge(VideoError):
    code = "VIDEO_ERROR_TOO_LARGE"


class VideoWorkerCrashed(VideoError):
    """The decoding process died (a signal inside FFmpeg, killed): only that video's work is lost."""

    code = "VIDEO_ERROR_WORKER_CRASHED"


class VideoWorkerOutOfMemory(VideoError):
    """Decoding needed more address space than the worker's limit (FACEPRINT_VIDEO_WORKER_MEMORY_MB)."""

    code = "VIDEO_ERROR_WORKER_OUT_OF_MEMORY"


class VideoWorkerTimeout(VideoError):
    """Decoding ran past the worker's wall-clock limit (FACEPRINT_VIDEO_WORKER_TIMEOUT_S)."""

    code = "VIDEO_ERROR_TIMEOUT"
