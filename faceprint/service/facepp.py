"""Face++ v3 on the wire: reading form fields, and shaping faces, rectangles, landmarks and errors.

Error bodies are ``{"request_id", "time_used", "error_message"}`` where ``error_message`` is the
Face++ code, bare or followed by the argument or face token to blame, as the Face++ reference writes
it for that endpoint (the table in :mod:`.facepp_errors`); ``error_detail`` adds our own
human-readable sentence.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, overload

from ..compare import FAR_LEVELS
from ..errors import BadInput, CoexistenceArguments, FaceprintError, MissingArguments
from ..types import Face
from . import attributes as attrs
from . import facepp_errors
from .landmarks import named
from .recognition import ImageRef, Probe

FormValue = str | bytes  # bytes: an uploaded file
MAX_COORDINATE = 1 << 20  # a face_rectangle reaching past this is no rectangle in any image we decode


def new_request_id() -> str:
    return f"{int(time.time())},{uuid.uuid4()}"


def error_body(exc: FaceprintError, request_id: str, time_used: int, endpoint: str = "") -> dict[str, object]:
    """``endpoint``: the request path, which picks the Face++ form of the message."""
    message = facepp_errors.message(exc, endpoint)
    return {"request_id": request_id, "time_used": time_used, "error_message": message, "error_detail": exc.message}


@dataclass(frozen=True)
class Params:
    """The request's form fields (query string, urlencoded or multipart; uploads read into bytes)."""

    fields: Mapping[str, FormValue]

    def text(self, name: str, *, required: bool = False, limit: int = 100_000) -> str | None:
        value = self.fields.get(name)
        if value is None or value == "":
            if required:
                raise MissingArguments(f"{name} is required", param=name)
            return None
        if isinstance(value, bytes) or len(value) > limit:
            raise BadInput(f"{name} must be text of at most {limit} characters", param=name)
        return value

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.text(name, limit=32)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise BadInput(f"{name} must be an integer", param=name) from None
        if not lo <= value <= hi:
            raise BadInput(f"{name} must be {lo}-{hi}", param=name)
        return value

    def flag(self, name: str, default: bool) -> bool:
        return bool(self.integer(name, int(default), 0, 1))

    def csv(self, name: str, *, required: bool = False) -> list[str]:
        raw = self.text(name, required=required)
        return [] if raw is None else [p.strip() for p in raw.split(",") if p.strip()]

    def seconds(self, name: str) -> list[float] | None:
        """Comma-separated seconds (``timestamps``); None when absent."""
        raw = self.csv(name)
        if not raw:
            return None
        try:
            return [float(x) for x in raw]
        except ValueError:
            raise BadInput(f"{name} are seconds, comma-separated", param=name) from None

    def far(self, default: str) -> str:
        """An operating point by its false-accept rate, one of :data:`~faceprint.compare.FAR_LEVELS`."""
        far = self.text("far", limit=8) or default
        if far not in FAR_LEVELS:
            raise BadInput(f"far must be one of {', '.join(FAR_LEVELS)}", param="far")
        return far

    def upload(self, name: str, *, required: bool = False, shown: str | None = None) -> bytes | None:
        """An uploaded file (possibly empty); None when the field is absent or blank. Text in its place is refused."""
        value = self.fields.get(name)
        if value is None or value == "":
            if required:
                raise MissingArguments(f"{name} is required", param=name)
            return None
        if not isinstance(value, bytes):
            raise BadInput(f"{shown or name} must be a file upload (multipart/form-data)", param=name)
        return value

    def rectangle(self, name: str) -> tuple[int, int, int, int] | None:
        parts = self.csv(name)
        if not parts:
            return None
        try:
            top, left, width, height = (int(p) for p in parts if len(p) <= 12)  # 12 digits: far past any image side
        except ValueError:
            raise BadInput(f"{name} is top,left,width,height in pixels", param=name) from None
        if min(top, left) < 0 or min(width, height) <= 0 or max(top + height, left + width) > MAX_COORDINATE:
            raise BadInput(f"{name} is top,left,width,height in pixels, each at most {MAX_COORDINATE}", param=name)
        return top, left, width, height

    @overload
    def image(self, n: str = "", *, required: Literal[True] = True) -> ImageRef: ...
    @overload
    def image(self, n: str = "", *, required: bool) -> ImageRef | None: ...
    def image(self, n: str = "", *, required: bool = True) -> ImageRef | None:
        """``image_file{n}`` > ``image_base64{_n}`` > ``image_url{n}``, as Face++ ranks them."""
        b64_name = f"image_base64_{n}" if n else "image_base64"
        upload = self.upload(f"image_file{n}", shown="image_file")
        if upload:
            return ImageRef(f"image_file{n}", data=upload)
        b64 = self.text(b64_name, limit=20_000_000)
        if b64 is not None:
            return ImageRef(b64_name, base64=b64)
        url = self.text(f"image_url{n}", limit=4096)
        if url is not None:
            return ImageRef(f"image_url{n}", url=url)
        if required:
            raise MissingArguments("an image is required", param=f"image_url{n}, image_file{n}, {b64_name}")
        return None

    def probe(self, n: str = "") -> Probe:
        """``face_token{n}`` first, else an image."""
        token = self.text(f"face_token{n}", limit=64)
        if token is not None:
            return Probe(face_token=token)
        image = self.image(n, required=False)
        if image is None:
            b64 = f"image_base64_{n}" if n else "image_base64"
            raise MissingArguments("a face is required", param=f"face_token{n}, image_url{n}, image_file{n}, {b64}")
        return Probe(image=image, rectangle=self.rectangle(f"face_rectangle{n}"), rectangle_param=f"face_rectangle{n}")

    def faceset(self) -> tuple[str | None, str | None]:
        token, outer = self.text("faceset_token", limit=64), self.text("outer_id", limit=255)
        if token is None and outer is None:
            raise MissingArguments("faceset_token or outer_id is required", param="faceset_token, outer_id")
        return token, outer

    def attributes(self, *, lenient: bool = False) -> attrs.Wanted:
        """``return_attributes`` under the server's policy (:func:`.attributes.choose`)."""
        return attrs.choose([w.lower() for w in self.csv("return_attributes")], lenient=lenient)

    def beauty_range(self) -> None:
        """``beauty_score_min/max``: integers 0-100, min <= max, as Face++ checks them. We compute no
        beauty score, so once valid they change nothing."""
        low, high = self.integer("beauty_score_min", 0, 0, 100), self.integer("beauty_score_max", 100, 0, 100)
        if low > high:
            raise BadInput("beauty_score_min must not exceed beauty_score_max", param="beauty_score_min")

    def landmark(self) -> int:
        return self.integer("return_landmark", 0, 0, 2)

    def exclusive(self, *names: str) -> None:
        given = [n for n in names if self.fields.get(n) not in (None, "")]
        if len(given) > 1:
            raise CoexistenceArguments(f"pass only one of {', '.join(names)}", param=", ".join(given))


# -- replies ---------------------------------------------------------------------------------------
def rectangle(face: Face) -> dict[str, int]:
    x1, y1, x2, y2 = (float(v) for v in face.bbox)
    return {"top": round(y1), "left": round(x1), "width": round(x2 - x1), "height": round(y2 - y1)}


def landmark(face: Face, scheme: int) -> dict[str, dict[str, int]] | None:
    if face.landmarks is None:
        return None
    return {k: {"x": round(float(x)), "y": round(float(y))} for k, (x, y) in named(face.landmarks, scheme).items()}


def face_json(face: Face, token: str, *, scheme: int = 0, wanted: tuple[str, ...] = (), analyse: bool = True) -> dict[str, object]:
    """One face of detect or face/analyze: token, rectangle, and landmarks / attributes if asked."""
    out: dict[str, object] = {"face_token": token, "face_rectangle": rectangle(face)}
    if analyse and scheme:
        points = landmark(face, scheme)
        if points is not None:
            out["landmark"] = points
    if analyse and wanted:
        out["attributes"] = attrs.compute(face, wanted)
    return out


def omitted(out: dict[str, object], wanted: attrs.Wanted) -> dict[str, object]:
    """Lenient mode: name the attributes asked for that the reply leaves out."""
    if wanted.omitted:
        out["omitted_attributes"] = list(wanted.omitted)
    return out


def brief(face: Face, token: str) -> dict[str, object]:
    return {"face_rectangle": rectangle(face), "face_token": token}


def thresholds(values: Mapping[str, float]) -> dict[str, float]:
    return {k: round(float(v), 3) for k, v in values.items()}
