"""Face++ ``error_message`` strings, endpoint by endpoint: the one table the server and the tests read.

Face++ documents, per endpoint, whether a code travels bare (``FACESET_EXIST``), with the argument
to blame (``BAD_ARGUMENTS: start``) or with the face token concerned (``INVALID_FACE_TOKEN:
<face_token>``). Clients compare these strings exactly (``== "FACESET_EXIST"``), so the form is
data here, not a habit of the code that raises. Sources: the "ERROR_MESSAGE" sections of the
Face++ v3 API reference (detect, compare, search, faceset/*, face/*), as mirrored by the official
SDKs and FaceppSwift. Codes the docs do not list for an endpoint (ours, such as ``PACK_MISMATCH``)
keep the general rule: the code, then ``": <argument>"`` when one is to blame.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from ..errors import FaceprintError


class Form(Enum):
    BARE = "bare"  # "CODE"
    ARGUMENT = "argument"  # "CODE: <argument>" (bare when no argument is known)
    TOKEN = "token"  # noqa: S105 - a form, not a secret: "CODE: <face_token>"


B, A, T = Form.BARE, Form.ARGUMENT, Form.TOKEN

# Every endpoint: the "common ERROR_MESSAGE" table of the Face++ reference.
COMMON: Mapping[str, Form] = {
    "AUTHENTICATION_ERROR": B, "AUTHORIZATION_ERROR": A, "CONCURRENCY_LIMIT_EXCEEDED": B, "MISSING_ARGUMENTS": A,
    "BAD_ARGUMENTS": A, "COEXISTENCE_ARGUMENTS": B, "API_NOT_FOUND": B, "INTERNAL_ERROR": A, "REQUEST_ENTITY_TOO_LARGE": B,
}  # fmt: skip

# One image argument (detect, search): the URL errors are bare, the decode errors name the argument.
_ONE_IMAGE = {
    "IMAGE_ERROR_UNSUPPORTED_FORMAT": A, "INVALID_IMAGE_SIZE": A, "INVALID_IMAGE_URL": B, "IMAGE_FILE_TOO_LARGE": A,
    "IMAGE_DOWNLOAD_TIMEOUT": B,
}  # fmt: skip
# Two image arguments (compare): every image error names the argument.
_TWO_IMAGES = {code: A for code in _ONE_IMAGE}
_FACESET = {"INVALID_FACESET_TOKEN": B, "INVALID_OUTER_ID": B}
_TOKENS_SIZE = {"INVALID_FACE_TOKENS_SIZE": B}

ENDPOINTS: Mapping[str, Mapping[str, Form]] = {
    "detect": _ONE_IMAGE,
    "compare": {**_TWO_IMAGES, "INVALID_FACE_TOKEN": T},
    "search": {**_ONE_IMAGE, **_FACESET, "INVALID_FACE_TOKEN": T, "EMPTY_FACESET": B},
    "faceset/create": {**_TOKENS_SIZE, "FACESET_EXIST": B, "FACESET_QUOTA_EXCEEDED": B},
    "faceset/addface": {**_FACESET, **_TOKENS_SIZE},
    "faceset/removeface": {**_FACESET, **_TOKENS_SIZE},
    "faceset/update": {**_FACESET, "NEW_OUTER_ID_EXIST": B},
    "faceset/getdetail": _FACESET,
    "faceset/delete": {**_FACESET, "FACESET_NOT_EMPTY": B},
    "faceset/getfacesets": {},
    "faceset/async/addface": {**_FACESET, **_TOKENS_SIZE},
    "faceset/async/removeface": {**_FACESET, **_TOKENS_SIZE},
    "faceset/async/task_status": {"INVALID_TASK_ID": B},
    "face/analyze": {**_TOKENS_SIZE, "INVALID_FACE_TOKEN": T},
    "face/getdetail": {"INVALID_FACE_TOKEN": T},
    "face/setuserid": {"INVALID_FACE_TOKEN": T},
}
PREFIX = "/facepp/v3/"


def form_of(endpoint: str, code: str) -> Form:
    """How ``code`` is written on ``endpoint`` (a path such as ``/facepp/v3/detect``, or ``detect``).

    faceprint's own endpoints (``/v1/...``, ``/faceid/...``, ``/admin/...``) always name the argument."""
    if endpoint.startswith("/") and not endpoint.startswith(PREFIX):
        return Form.ARGUMENT
    name = endpoint[len(PREFIX) :] if endpoint.startswith(PREFIX) else endpoint.lstrip("/")
    return ENDPOINTS.get(name, {}).get(code) or COMMON.get(code) or Form.ARGUMENT


def message(exc: FaceprintError, endpoint: str = "") -> str:
    """The ``error_message`` Face++ would send for ``exc`` on ``endpoint``."""
    form = form_of(endpoint, exc.code)
    suffix = exc.details.get("face_token") if form is Form.TOKEN else exc.details.get("param") if form is Form.ARGUMENT else None
    return f"{exc.code}: {suffix}" if suffix else exc.code
