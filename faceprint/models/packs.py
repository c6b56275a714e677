"""Model packs: named bundles of detector, embedder and optional landmarker, kept in a :class:`~faceprint.registry.Registry`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from ..detect.base import Detector
from ..embed.base import Embedder
from ..errors import ModelNotFound
from ..landmarks.base import Landmarker
from ..registry import Registry
from .files import ModelFile

DEFAULT_PACK = "arcface-s"


@dataclass(frozen=True)
class Components:
    detector: Detector
    embedder: Embedder
    landmarker: Landmarker | None


@dataclass(frozen=True)
class BuildOptions:
    threads: int | None = None
    det_size: int = 640
    det_threshold: float | None = None  # None: the pack's own default


@dataclass(frozen=True)
class BuildSettings:
    """:class:`BuildOptions` with the pack's defaults filled in: what a pack's builder receives."""

    threads: int | None
    det_size: int
    det_threshold: float


@dataclass(frozen=True)
class Pack:
    name: str
    summary: str
    licence: str  # plain words on what the weights may be used for
    commercial: bool
    dim: int
    files: dict[str, ModelFile]  # role -> file
    builder: Callable[[Pack, BuildSettings], Components]
    det_threshold: float = 0.5  # detector score cut-off measured to keep real faces and drop false boxes
    # 1:1 templates (compare, verification references) fuse the face and its mirror image: one more
    # embedding per face for a more accurate verdict. Batch and gallery templates stay plain.
    compare_flip: bool = True

    def build(self, options: BuildOptions | None = None) -> Components:
        opt = options or BuildOptions()
        threshold = self.det_threshold if opt.det_threshold is None else opt.det_threshold
        return self.builder(self, BuildSettings(threads=opt.threads, det_size=opt.det_size, det_threshold=threshold))


# The packs that ship with faceprint, each registered by its own module (imported when first asked for).
PACKS: Registry[Pack] = Registry(
    "model pack", ModelNotFound,
    builtin={"arcface-s": "faceprint.models.arcface_s", "dlib": "faceprint.models.dlib", "sface": "faceprint.models.sface"},
)  # fmt: skip


def register_pack(pack: Pack) -> Pack:
    return PACKS.register(pack.name, pack)


def available_packs() -> list[Pack]:
    return list(PACKS.items().values())


def default_pack_name() -> str:
    """The pack used when none is named: ``$FACEPRINT_PACK`` switches everything at once."""
    return os.environ.get("FACEPRINT_PACK", DEFAULT_PACK)


def get_pack(name: str | None = None) -> Pack:
    return PACKS.get(name or default_pack_name())
