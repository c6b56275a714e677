"""The passive liveness check of one uploaded photo, for ``POST /v1/liveness/passive``.

The PAD detector is built once per server and name (MiniFASNet loads two networks); the image is
decoded under the server's limits, as every other endpoint decodes it.
"""

from __future__ import annotations

from ..liveness.pad import PADDetector, PADOptions, get_detector
from ..liveness.passive import PassiveResult, check_image
from .recognition import ImageRef
from .runtime import Runtime, attached

DEFAULT_DETECTOR = "minifasnet"


def detector(rt: Runtime, name: str) -> PADDetector:
    """The server's detector ``name``: UNKNOWN_PAD_DETECTOR for a name we do not know, PAD_MODEL_NOT_INSTALLED without its weights."""
    return attached(rt, f"_pad_{name}", lambda r: get_detector(name, PADOptions(data_dir=r.data_dir)))


def check(rt: Runtime, name: str, image: ImageRef) -> PassiveResult:
    """Is the largest face of ``image`` live? The detector is resolved before the image is decoded."""
    det = detector(rt, name)
    img, _ = rt.recognition._load(image)
    return check_image(rt.engine, det, img)
