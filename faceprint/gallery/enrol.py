"""Enrolment: images in, one face per image chosen and gated on quality, templates stored in batches.

Every input ends in exactly one list of the :class:`EnrolReport`: enrolled, rejected (with a
Face++-style code and a reason) or duplicates (its source image already gave this gallery a face).
An image with several faces is refused unless the caller says which face to take.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .. import pipeline
from ..align import align_crop
from ..engine import FaceEngine
from ..errors import FaceprintError, LowQuality, NoFaceFound, TooManyFaces
from ..image import ImageInput
from ..pipeline import Found
from ..types import Face, Quality
from .types import EnrolReport, FaceRecord, NewFace, Rejected

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class EnrolOptions:
    min_quality: float = Quality.THRESHOLD  # 0 turns the gate off (Rekognition QualityFilter NONE)
    face: int | None = None  # for images with several faces: which one (0 = largest); None refuses them
    keep_thumbnail: bool = False  # store the aligned 112x112 face as JPEG (raw images never are)
    skip_duplicates: bool = True  # an image already enrolled in the gallery is reported, not re-added
    batch_size: int = 16


@dataclass(frozen=True)
class EnrolItem:
    source: str  # how the report names this input: a path, or "#3" for the fourth in-memory image
    image: ImageInput
    subject: str


def folder_items(root: str | os.PathLike[str]) -> list[EnrolItem]:
    """``root/<subject>/*.jpg`` (any depth below the subject folder), sorted for a stable order."""
    base = Path(root)
    items = []
    for sub in sorted(p for p in base.iterdir() if p.is_dir()):
        for path in sorted(sub.rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                items.append(EnrolItem(str(path), path, sub.name))
    return items


def image_sha256(image: ImageInput) -> str:
    if isinstance(image, np.ndarray):
        return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    if isinstance(image, (bytes, bytearray, memoryview)):
        return hashlib.sha256(bytes(image)).hexdigest()
    if isinstance(image, os.PathLike) or (isinstance(image, str) and os.path.isfile(image)):
        try:
            return hashlib.sha256(Path(image).read_bytes()).hexdigest()
        except OSError:
            return hashlib.sha256(str(image).encode()).hexdigest()
    return hashlib.sha256(str(image).encode()).hexdigest()


def choose_face(faces: Sequence[Face], options: EnrolOptions) -> int:
    """The index of the one face to enrol, or the error that says why there is none."""
    if not faces:
        raise NoFaceFound("no face found in the image")
    if options.face is None and len(faces) > 1:
        raise TooManyFaces(f"{len(faces)} faces in the image; say which one to enrol", faces=len(faces))
    idx = options.face or 0
    if idx >= len(faces):
        raise NoFaceFound(f"face {idx} asked for, but the image has {len(faces)}")
    face = faces[idx]
    if face.quality is not None and face.quality.score < options.min_quality:
        raise LowQuality(
            f"face quality {face.quality.score:.1f} is below {options.min_quality:g}", quality=round(face.quality.score, 2)
        )
    return idx


def prepare_one(engine: FaceEngine, image: ImageInput, subject: str, options: EnrolOptions) -> NewFace:
    """Detect, choose, gate and embed one image's face, raising the error that stops it."""
    img = engine.load(image)
    found = pipeline.detect(engine.models, [img], engine.steps())[0]
    chosen = found.only(choose_face(found.faces, options))
    (embedded,) = engine.embed_found([chosen])[0]
    return _new_face(chosen, embedded, subject, image_sha256(image), options)


def _new_face(found: Found, face: Face, subject: str, sha: str, options: EnrolOptions) -> NewFace:
    """``face``: the one face of ``found``, embedded."""
    return NewFace(
        embedding=face.vector(),
        subject=subject,
        bbox=tuple(float(v) for v in face.bbox),  # type: ignore[arg-type]
        quality=None if face.quality is None else float(face.quality.score),
        image_sha256=sha,
        thumbnail=_thumbnail(found) if options.keep_thumbnail else None,
    )


def _thumbnail(found: Found) -> bytes:
    """The aligned crop the face's quality was measured on, as JPEG."""
    crop = found.crops[0] if found.crops[0] is not None else align_crop(found.image, found.faces[0].kps)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return buf.tobytes() if ok else b""


StoreFaces = Callable[[list[NewFace]], list[FaceRecord]]
KnownImages = Callable[[list[str]], set[str]]


def enrol(
    engine: FaceEngine,
    items: Sequence[EnrolItem],
    options: EnrolOptions,
    store_faces: StoreFaces,
    known_images: KnownImages,
    progress: Progress | None = None,
) -> EnrolReport:
    """Enrol ``items`` batch by batch; each batch is stored (and acknowledged) in one transaction."""
    t0 = time.perf_counter()
    enrolled: list[FaceRecord] = []
    rejected: list[Rejected] = []
    duplicates: list[str] = []
    seen: set[str] = set()
    for start in range(0, len(items), max(1, options.batch_size)):
        batch = items[start : start + options.batch_size]
        hashes = [image_sha256(it.image) for it in batch]
        known = known_images(hashes) if options.skip_duplicates else set()
        todo: list[tuple[EnrolItem, str, np.ndarray]] = []
        for it, sha in zip(batch, hashes, strict=True):
            if options.skip_duplicates and (sha in known or sha in seen):
                duplicates.append(it.source)
                continue
            try:
                todo.append((it, sha, engine.load(it.image)))
            except FaceprintError as exc:
                rejected.append(Rejected(it.source, exc.code, exc.message))
            seen.add(sha)
        new = _embed(engine, todo, options, rejected)
        if new:
            enrolled += store_faces([f for _, f in new])
        if progress is not None:
            progress(min(start + len(batch), len(items)), len(items))
    return EnrolReport(tuple(enrolled), tuple(rejected), tuple(duplicates), time.perf_counter() - t0)


def _embed(
    engine: FaceEngine, todo: list[tuple[EnrolItem, str, np.ndarray]], options: EnrolOptions, rejected: list[Rejected]
) -> list[tuple[EnrolItem, NewFace]]:
    if not todo:
        return []
    found = pipeline.detect(engine.models, [img for _, _, img in todo], engine.steps())
    chosen: list[tuple[EnrolItem, str, Found]] = []
    for (it, sha, _), one in zip(todo, found, strict=True):
        try:
            chosen.append((it, sha, one.only(choose_face(one.faces, options))))
        except FaceprintError as exc:
            rejected.append(Rejected(it.source, exc.code, exc.message))
    embedded = engine.embed_found([c[2] for c in chosen])
    return [(it, _new_face(f, face, it.subject, sha, options)) for (it, sha, f), (face,) in zip(chosen, embedded, strict=True)]
