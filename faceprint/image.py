"""Load an image from a path, bytes, base64 text or a numpy array into BGR uint8.

Every failure becomes a :mod:`faceprint.errors` code: nothing from Pillow leaks out.
Size limits are checked from the header, before any pixel is decoded, so a
decompression bomb costs a few hundred bytes of parsing.

Before decoding, the header's raster (pixels x channels x bytes per channel) is checked against
``max_raster_bytes`` and what the decode will hold (:func:`decode_cost`) is reserved from the
process's decode budget (:mod:`faceprint.budget`), so concurrent requests cannot together spend
more than the budget; the decoded pixels' share stays reserved until the enclosing
:func:`faceprint.budget.holding` scope ends (the service holds one per request), since the pixels
are still in memory while the detector runs. Only the formats in :data:`FORMATS` are parsed: every decoder is attack
surface. Pixels are converted in bands of rows, so a 16-bit RGBA image costs its decoded raster
plus the BGR result, not five full-size copies.

Pillow parses every header. Complete 8-bit JPEGs (the common case) are then decoded by
OpenCV straight into BGR, which is about twice as fast as Pillow's RGB decode plus the
channel swap, with identical pixels (both use libjpeg-turbo); anything else, and any JPEG
OpenCV refuses, takes the Pillow path.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .budget import decode_budget
from .errors import FaceprintError, ImageFileNotFound, ImageFormatError, ImageSizeError, ImageTooLarge

ImageInput = str | bytes | bytearray | memoryview | os.PathLike[str] | np.ndarray

# We enforce our own limits from the header; Pillow's own bomb check would only warn or raise later.
Image.MAX_IMAGE_PIXELS = None

# The formats we parse (Pillow knows ~40; PSD, EPS, FITS... are not what faces come in).
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "DIB", "PPM")
BAND_ROWS = 256  # rows converted to BGR at a time


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 10 * 1024 * 1024
    min_side: int = 48
    max_side: int = 4096
    max_raster_bytes: int = 4096 * 4096 * 4 * 2  # pixels x channels x bytes per channel, from the header (16-bit RGBA at the side limit)

    def check_bytes(self, n: int) -> None:
        if n > self.max_bytes:
            raise ImageTooLarge(f"image is {n} bytes; the limit is {self.max_bytes}", limit=self.max_bytes)

    def check_size(self, width: int, height: int) -> None:
        if min(width, height) < self.min_side or max(width, height) > self.max_side:
            raise ImageSizeError(
                f"image is {width}x{height}; each side must be {self.min_side}-{self.max_side} px",
                width=width,
                height=height,
            )

    def check_raster(self, width: int, height: int, channels: int, depth: int) -> None:
        raster = width * height * channels * depth
        if raster > self.max_raster_bytes:
            raise ImageTooLarge(f"image declares {width}x{height} x {channels} channels x {depth} bytes = {raster} bytes;"
                                f" the limit is {self.max_raster_bytes}", limit=self.max_raster_bytes)  # fmt: skip


DEFAULT_LIMITS = ImageLimits()


def load_image(src: ImageInput, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Return an HxWx3 BGR uint8 array. Numpy input is taken as BGR (OpenCV order), BGRA or gray."""
    if isinstance(src, np.ndarray):
        return _from_array(src, limits)
    path = _as_path(src)
    if path is None:
        return decode_bytes(_read_bytes(src, limits), limits)
    try:
        return decode_bytes(_read_file(path, limits), limits)
    except FaceprintError as exc:
        raise exc.about(str(path)) from None


def source_name(src: ImageInput, fallback: str) -> str:
    """How an error names this input: its file name, or ``fallback`` for bytes, base64 and arrays."""
    path = None if isinstance(src, np.ndarray) else _as_path(src)
    return fallback if path is None else str(path)


def _as_path(src: ImageInput) -> Path | None:
    if isinstance(src, os.PathLike) or (isinstance(src, str) and _looks_like_path(src)):
        return Path(src)
    return None


def _read_file(path: Path, limits: ImageLimits) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageFileNotFound("no such file") from None
    except OSError as exc:
        raise ImageFormatError(f"cannot read the file: {exc.strerror}") from None
    limits.check_bytes(size)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageFormatError(f"cannot read the file: {exc.strerror}") from None


def _read_bytes(src: ImageInput, limits: ImageLimits) -> bytes:
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        limits.check_bytes(len(data))
        return data
    if isinstance(src, str):
        return _from_base64(src, limits)
    raise ImageFormatError(f"unsupported image input of type {type(src).__name__}")


def _looks_like_path(text: str) -> bool:
    if len(text) > 4096 or text.startswith("data:"):
        return False
    return os.path.exists(text) or not _is_base64_alphabet(text)


def _is_base64_alphabet(text: str) -> bool:
    return len(text) >= 64 and all(c.isalnum() or c in "+/=\n\r" for c in text[:256])


def _from_base64(text: str, limits: ImageLimits) -> bytes:
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    # base64 is 4/3 of the payload: refuse before decoding something far too big.
    limits.check_bytes(len(text) * 3 // 4)
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ImageFormatError("input is neither an existing file nor valid base64") from None
    limits.check_bytes(len(data))
    return data


def decode_bytes(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    limits.check_bytes(len(data))
    if not data:
        raise ImageFormatError("empty image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            limits.check_size(*img.size)  # from the header: nothing decoded yet
            limits.check_raster(*img.size, len(img.getbands()), _depth(img))
            with decode_budget().reserve(decode_cost(img)) as reservation, img:
                bgr = _decode_jpeg(img, data)
                if bgr is None:
                    img.load()
                    turn = _ORIENT.get(img.getexif().get(0x0112, 1))
                    bgr = _bands_to_bgr(img)
                    bgr = np.ascontiguousarray(turn(bgr)) if turn else bgr
                reservation.keep(bgr.nbytes)  # the pixels stay reserved while the caller's scope uses them
            return bgr
    except FaceprintError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many types for corrupt data; all mean one thing here
        raise ImageFormatError("not a decodable image (JPEG, PNG, WebP, BMP, TIFF, GIF)") from None


# EXIF orientation -> how to turn the stored pixels upright, as ImageOps.exif_transpose does.
_ORIENT = {
    2: lambda a: cv2.flip(a, 1),
    3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
    4: lambda a: cv2.flip(a, 0),
    5: lambda a: cv2.transpose(a),
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def _decode_jpeg(img: Image.Image, data: bytes) -> np.ndarray | None:
    """BGR pixels of a complete YCbCr or grey JPEG via OpenCV, upright; None: use Pillow instead.

    Only files that end in the EOI marker qualify: libjpeg in OpenCV pads a truncated file
    with grey and reports success, where Pillow raises, and we keep Pillow's answer.
    """
    if img.format != "JPEG" or img.mode not in ("RGB", "L") or not data.endswith(b"\xff\xd9"):
        return None
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if arr is None or arr.shape[:2] != (img.size[1], img.size[0]) or arr.ndim != 3:
        return None
    turn = _ORIENT.get(img.getexif().get(0x0112, 1))
    return np.ascontiguousarray(turn(arr)) if turn else arr


def _depth(img: Image.Image) -> int:
    """Bytes per channel the file declares: 16-bit PNG and TIFF say so in their raw mode."""
    if img.mode in ("I", "F"):
        return 4
    raw = " ".join(str(getattr(t, "args", "")) for t in getattr(img, "tile", [])[:1])
    return 2 if ";16" in raw or img.mode.startswith("I;16") else 1


def _held(img: Image.Image) -> int:
    """Bytes per pixel Pillow holds once decoded (it stores 16-bit RGBA as 8-bit, RGB in 4 bytes)."""
    mode = img.mode
    return 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4


def decode_cost(img: Image.Image) -> int:
    """What decoding ``img`` will hold at its peak, from its header: the raster, Pillow's copy, the BGR result."""
    w, h = img.size
    return w * h * (max(_held(img), len(img.getbands()) * _depth(img)) + 3) + BAND_ROWS * w * 32


def _bands_to_bgr(img: Image.Image) -> np.ndarray:
    """BGR uint8 of a decoded image, converted BAND_ROWS rows at a time into one output array."""
    w, h = img.size
    out = np.empty((h, w, 3), np.uint8)
    scale = _gray_scale(img)
    for top in range(0, h, BAND_ROWS):
        bottom = min(top + BAND_ROWS, h)
        out[top:bottom] = _pil_to_bgr(img.crop((0, top, w, bottom)), scale)
    return out


def _gray_scale(img: Image.Image) -> float:
    """The white level of a 16/32-bit grey image, from the whole image (bands must scale alike)."""
    mode = img.mode
    if mode.startswith("I;16"):
        return 65535.0
    if mode in ("I", "F"):
        top = img.getextrema()[1]
        return 65535.0 if float(top) > 255 else 255.0  # type: ignore[arg-type]
    return 255.0


def _pil_to_bgr(img: Image.Image, top: float = 255.0) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        gray = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    rgb = np.asarray(img.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _from_array(arr: np.ndarray, limits: ImageLimits) -> np.ndarray:
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ImageFormatError(f"array of shape {arr.shape} is not an image (want HxW, HxWx3 or HxWx4)")
    if arr.dtype != np.uint8:
        if arr.dtype == np.uint16:
            arr = (arr >> 8).astype(np.uint8)
        elif np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = np.clip(np.nan_to_num(arr) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        else:
            arr = np.clip(np.nan_to_num(arr.astype(np.float64)), 0, 255).astype(np.uint8)
    limits.check_size(arr.shape[1], arr.shape[0])
    return np.ascontiguousarray(arr[:, :, :3])
