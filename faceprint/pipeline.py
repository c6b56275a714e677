"""One pass over images: detect, finish and embed every face, batched.

    models = Models.build(get_pack("arcface-s"), EngineConfig())
    faces = analyse(models, imgs, Steps(landmarks=True))      # list of faces per image, largest first
    faces = run(EngineConfig(pack="arcface-s"), ["a.jpg"])    # the same from a config (worker processes)

InsightFace's ``FaceAnalysis.get`` is the model: the detector creates each :class:`Face`, and each
later stage fills its own field (pose, quality, the non-face gate, 106 landmarks, the template).
:func:`detect` gives each image's :class:`Found` faces with the 112x112 crop aligned for quality;
:func:`embed` embeds those crops as they are (the crop is warped once), for every face or for the
ones a caller picked (``found.only(i)``). The engine, the service's micro-batcher, enrolment, the
gallery service and video all go through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .align import align_crop
from .choose import template_keypoints
from .detect.base import Detector
from .embed.base import Embedder, l2_normalize
from .errors import BadInput
from .gate import GATES, FaceGate, screen
from .image import DEFAULT_LIMITS, ImageInput, ImageLimits, load_image
from .landmarks.base import Landmarker
from .models.packs import BuildOptions, Pack, get_pack
from .pose import estimate_pose
from .quality import assess
from .types import Face


@dataclass(frozen=True)
class EngineConfig:
    pack: str | None = None  # None: $FACEPRINT_PACK or the default pack
    det_size: int = 640  # the detector sees the image scaled to fit this square
    det_threshold: float | None = None  # None: the pack's measured default
    min_face: int = 0  # ignore faces whose box is narrower than this many pixels
    threads: int | None = None  # onnxruntime threads per model; None: all cores up to 4
    # Test-time flip: a template is the normalised sum of the face's and its mirror image's (twice
    # the embedding cost; LFW 99.55% -> 99.70% on arcface-s; calibrated separately).
    # None: 1:1 templates (compare, template) are flip-fused where the pack says so, batch and
    # gallery templates are not. True / False: every template is / none is.
    flip: bool | None = None
    limits: ImageLimits = field(default_factory=lambda: DEFAULT_LIMITS)
    face_gate: bool = True  # drop detections the recogniser says are not faces (gate.py; packs with a measured gate)


@dataclass(frozen=True)
class Steps:
    """What one pass does besides detection, pose and quality."""

    landmarks: bool = False  # the 106 dense points
    gate: bool = True  # drop detections the recogniser says are not faces
    embed: bool = True  # fill each face's template
    flip: bool = False  # flip-fused templates (1:1)
    detect_together: bool = True  # one detector call per input size; False: one call per image


@dataclass(frozen=True, eq=False)
class Models:
    """A pack's built models and the engine settings the pass applies."""

    detector: Detector
    embedder: Embedder
    landmarker: Landmarker | None
    gate: FaceGate | None
    min_face: int = 0

    @classmethod
    def build(cls, pack: Pack, config: EngineConfig) -> Models:
        parts = pack.build(BuildOptions(threads=config.threads, det_size=config.det_size, det_threshold=config.det_threshold))
        gate = GATES.get(pack.name) if config.face_gate else None
        return cls(parts.detector, parts.embedder, parts.landmarker, gate, config.min_face)


@dataclass(frozen=True, eq=False)
class Found:
    """One image's faces (largest first, finished), the aligned crop quality was measured on, and
    the template where one was already computed (the non-face gate embeds the faces it checks)."""

    image: np.ndarray
    faces: tuple[Face, ...]
    crops: tuple[np.ndarray | None, ...]  # None: aligned when embedded
    templates: tuple[np.ndarray | None, ...] = ()  # () or one per face; None: embedded when asked

    @classmethod
    def of(cls, image: np.ndarray, faces: Sequence[Face]) -> Found:
        """Faces finished elsewhere (a video track's crop); their crops are aligned when embedded."""
        return cls(image, tuple(faces), (None,) * len(faces))

    def template(self, i: int) -> np.ndarray | None:
        return self.templates[i] if self.templates else None

    def only(self, *indices: int) -> Found:
        return Found(
            self.image,
            tuple(self.faces[i] for i in indices),
            tuple(self.crops[i] for i in indices),
            tuple(self.template(i) for i in indices),
        )


def dress(img: np.ndarray, face: Face) -> tuple[Face, np.ndarray]:
    """The face with its head pose and quality, and the 112x112 aligned crop quality read."""
    crop = align_crop(img, face.kps)
    pose = estimate_pose(face.kps, (img.shape[1], img.shape[0]))
    return face.with_(pose=pose, quality=assess(crop, face.kps, pose)), crop


def finish(models: Models, img: np.ndarray, faces: Sequence[Face], steps: Steps) -> Found:
    """Detections of one image -> largest first, with pose and quality, gated, with landmarks if asked."""
    if models.min_face:
        faces = [f for f in faces if f.width >= models.min_face]
    dressed = [dress(img, f) for f in sorted(faces, key=lambda f: -f.area)]
    out = [f for f, _ in dressed]
    crops: list[np.ndarray | None] = [c for _, c in dressed]
    kept, templates = screen(models.gate if steps.gate else None, models.embedder, img, out, crops)
    out = [out[i] for i in kept]
    if steps.landmarks:
        out = add_landmarks(models, img, out)
    return Found(img, tuple(out), tuple(crops[i] for i in kept), tuple(templates.get(i) for i in kept))


def in_box(models: Models, img: np.ndarray, box: Sequence[float] | np.ndarray) -> Found:
    """The face inside a caller's box (x1, y1, x2, y2): the box *is* the face, no detection runs.

    The dense landmarker runs inside the box and gives the 5 alignment keypoints (for a pack
    without one, the alignment template is laid over the box); pose and quality follow from
    them, as for a detected face. This is what Face++ ``face_rectangle`` means.
    """
    height, width = img.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise BadInput(f"box {x1:g},{y1:g},{x2:g},{y2:g} does not lie inside the {width}x{height} image", param="box")
    bbox = np.array([x1, y1, x2, y2], np.float32)
    face = Face(bbox=bbox, score=1.0, kps=template_keypoints(bbox))
    if models.landmarker is not None and models.landmarker.five is not None:
        pts = models.landmarker.landmarks(img, [face])[0]
        face = face.with_(kps=pts[list(models.landmarker.five)], landmarks=pts)
    dressed, crop = dress(img, face)
    return Found(img, (dressed,), (crop,))


def add_landmarks(models: Models, img: np.ndarray, faces: list[Face]) -> list[Face]:
    if models.landmarker is None or not faces:
        return faces
    pts = models.landmarker.landmarks(img, faces)
    return [f.with_(landmarks=p) for f, p in zip(faces, pts, strict=True)]


def detect(models: Models, imgs: Sequence[np.ndarray], steps: Steps = Steps()) -> list[Found]:
    """Every image's faces, finished: one detector call per input size (or per image)."""
    raw = models.detector.detect_batch(list(imgs)) if steps.detect_together else [models.detector.detect_batch([img])[0] for img in imgs]
    return [finish(models, img, faces, steps) for img, faces in zip(imgs, raw, strict=True)]


def embed(models: Models, found: Sequence[Found], flip: bool = False) -> list[list[Face]]:
    """Each Found's faces with their templates: one embedder call for all those not yet embedded."""
    items = [(d.image, f) for d in found for f in d.faces]
    known = [d.template(i) for d in found for i in range(len(d.faces))]
    todo = [k for k, t in enumerate(known) if t is None]
    vecs = np.zeros((len(items), models.embedder.dim), np.float32)
    if todo:
        crops = [c for d in found for c in d.crops]
        vecs[todo] = models.embedder.embed_aligned([items[k] for k in todo], [crops[k] for k in todo])
    for k, t in enumerate(known):
        if t is not None:
            vecs[k] = t
    if flip and items:
        vecs = fuse_mirrors(models.embedder, items, vecs)
    out: list[list[Face]] = []
    k = 0
    for d in found:
        out.append([f.with_(embedding=vecs[k + j]) for j, f in enumerate(d.faces)])
        k += len(d.faces)
    return out


def fuse_mirrors(embedder: Embedder, items: Sequence[tuple[np.ndarray, Face]], vecs: np.ndarray) -> np.ndarray:
    """Flip fusion: each template plus its mirror image's, normalised."""
    return l2_normalize(vecs + embedder.embed_mirrored(items))


def analyse(models: Models, imgs: Sequence[np.ndarray], steps: Steps = Steps()) -> list[list[Face]]:
    """Every face of every image, largest first, with pose, quality (landmarks) and template."""
    found = detect(models, imgs, steps)
    return embed(models, found, steps.flip) if steps.embed else [list(d.faces) for d in found]


@lru_cache(maxsize=4)
def models_for(config: EngineConfig) -> Models:
    """The models of ``config``'s pack, built once per process."""
    return Models.build(get_pack(config.pack), config)


def run(config: EngineConfig, images: Sequence[ImageInput], steps: Steps | None = None) -> list[list[Face]]:
    """:func:`analyse` from plain, picklable arguments: what a worker process calls.

    ``steps`` None: batch templates as ``FaceEngine(config=config).embed_batch`` gives them."""
    imgs = [load_image(im, config.limits) for im in images]
    return analyse(models_for(config), imgs, steps or Steps(flip=config.flip is True))
