"""Photos as the CLI reads them: ``--max-side`` downscales a camera-size photo, and says so.

The library and the HTTP API keep their limits (4096 px a side, 10 MB, as Face++). On the
command line a user may ask for an oversize photo to be shrunk first: it is then read with
roomier limits (still checked from the header before any pixel is decoded) and scaled with
area interpolation so that its longest side is ``--max-side``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import typer

from ..errors import FaceprintError, ImageSizeError
from ..image import DEFAULT_LIMITS, ImageLimits, load_image
from .output import err_console

# What a photo may be before --max-side shrinks it: a 200 MP camera, 64 MB on disk.
ROOMY = ImageLimits(max_bytes=64 * 1024 * 1024, min_side=DEFAULT_LIMITS.min_side, max_side=16384)

MaxSideOpt: Any = typer.Option(
    None, "--max-side", min=DEFAULT_LIMITS.min_side, max=DEFAULT_LIMITS.max_side, metavar="PIXELS",
    help=f"Shrink a photo whose longer side is over PIXELS (at most {DEFAULT_LIMITS.max_side}) before use, and say so."
    f" Without it, photos over {DEFAULT_LIMITS.max_side} px are refused.",
)  # fmt: skip


def load_photo(path: Path, max_side: int | None) -> np.ndarray:
    """The photo as BGR pixels; errors name the file, and an oversize one suggests --max-side."""
    if max_side is None:
        try:
            return load_image(path)
        except ImageSizeError as exc:
            w, h = exc.details.get("width"), exc.details.get("height")
            if isinstance(w, int) and isinstance(h, int) and max(w, h) > DEFAULT_LIMITS.max_side:
                exc.message += f"; pass --max-side {DEFAULT_LIMITS.max_side} to downscale it"
            raise
    img = load_image(path, ROOMY)
    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return img
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    err_console.print(f"{path}: downscaled from {w}x{h} to {size[0]}x{size[1]} (--max-side {max_side})", soft_wrap=True)
    return small


def renamed(exc: FaceprintError, names: dict[str, str]) -> FaceprintError:
    """An error about an in-memory input ("the first image") made to name its file instead."""
    if exc.source in names:
        exc.message = names[exc.source] + exc.message[len(exc.source or "") :]
        exc.source = names[exc.source]
    return exc
