"""Batch library calls over the worker pool: paths in, faces out, in input order.

    from faceprint.parallel import embed_many
    faces = embed_many(paths)                      # one worker per core
    faces = embed_many(paths, workers=4, config=EngineConfig(pack="sface"))

The same faces and templates as ``FaceEngine.embed`` on each path (the test holds them to
cosine 0.99999), at about cores x one core's rate.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..engine import EngineConfig, FaceEngine
from ..image import ImageInput, source_name
from ..types import Face
from .pool import EnginePool, Outcome, PoolConfig


def embed_one(engine: FaceEngine, image: ImageInput) -> list[Face]:
    """What a worker runs per image: ``FaceEngine.embed`` (the image is decoded in the worker)."""
    return engine.embed(image)


def analyze_one(engine: FaceEngine, image: ImageInput) -> list[Face]:
    """``FaceEngine.analyze``: the 106 landmarks too."""
    return engine.analyze(image)


def embed_outcomes(
    images: Sequence[ImageInput], *, workers: int | None = None, config: EngineConfig | None = None, landmarks: bool = False
) -> list[Outcome[list[Face]]]:
    """Every image's faces or its error: one bad image does not stop the others."""
    fn = analyze_one if landmarks else embed_one
    with EnginePool(PoolConfig(workers=workers, engine=config or EngineConfig())) as pool:
        return list(pool.map(fn, images))


def embed_many(
    images: Sequence[ImageInput], *, workers: int | None = None, config: EngineConfig | None = None, landmarks: bool = False
) -> list[list[Face]]:
    """``FaceEngine.embed`` of many images, across worker processes; the first bad image raises,
    named by its file (as ``embed_batch`` does). Give paths: each worker decodes its own."""
    out = []
    for i, outcome in enumerate(embed_outcomes(images, workers=workers, config=config, landmarks=landmarks)):
        if outcome.error is not None:
            raise outcome.error.about(source_name(images[i], f"image #{i}"))
        out.append(outcome.get())
    return out
