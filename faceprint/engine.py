"""FaceEngine: the one object that detects, aligns, embeds and compares faces.

    engine = FaceEngine()                 # default pack, or FaceEngine("sface")
    faces = engine.detect("group.jpg")    # boxes, keypoints, pose, quality
    verdict = engine.compare("a.jpg", "b.jpg")
    anywhere = engine.compare_any("person.jpg", "crowd.jpg")   # every face of the crowd, per-photo FAR
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from . import pipeline
from .anyface import PhotoVerdict, score_photo
from .choose import PRIMARY, FaceChoice, primary_index
from .compare import Calibration, calibration_for
from .errors import FaceprintError, NoFaceFound
from .image import ImageInput, load_image, source_name
from .models.packs import Pack, get_pack
from .pipeline import EngineConfig, Found, Models, Steps
from .types import Face, Verdict

__all__ = ["EngineConfig", "FaceEngine"]

SIDES = ("the first image", "the second image")  # how compare's errors name in-memory inputs


class FaceEngine:
    """A pack's models and calibrations over the one pass of :mod:`faceprint.pipeline`."""

    def __init__(self, pack: str | None = None, config: EngineConfig | None = None) -> None:
        self.pack: Pack = get_pack(pack or (config or EngineConfig()).pack)
        self.config = replace(config or EngineConfig(), pack=self.pack.name)  # pipeline.run(engine.config, ...) rebuilds it
        self.models = Models.build(self.pack, self.config)
        m = self.models
        self.detector, self.embedder, self.landmarker, self.gate = m.detector, m.embedder, m.landmarker, m.gate
        self._calibrations: dict[str, Calibration] = {}

    def flips(self, one_to_one: bool = False) -> bool:
        """Whether templates of this kind (1:1, or batch and gallery) are flip-fused."""
        if self.config.flip is not None:
            return self.config.flip
        return one_to_one and self.pack.compare_flip

    def calibration_key(self, one_to_one: bool = False) -> str:
        """Thresholds depend on the pack and on whether templates are flip-fused."""
        return self.pack.name + ("+flip" if self.flips(one_to_one) else "")

    def calibration_of(self, one_to_one: bool = False) -> Calibration:
        key = self.calibration_key(one_to_one)
        if key not in self._calibrations:
            self._calibrations[key] = calibration_for(key)
        return self._calibrations[key]

    @property
    def calibration(self) -> Calibration:
        """Thresholds for batch and gallery templates (``embed``, ``embed_batch``, galleries, video)."""
        return self.calibration_of(False)

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def load(self, image: ImageInput) -> np.ndarray:
        return load_image(image, self.config.limits)

    # -- detection and embedding: one pass each ----------------------------------------------------
    def steps(self, *, landmarks: bool = False, gate: bool = True, one_to_one: bool = False) -> Steps:
        """This engine's pass: batch and gallery templates unless ``one_to_one``."""
        return Steps(landmarks=landmarks, gate=gate, flip=self.flips(one_to_one))

    def _found(self, img: np.ndarray, *, landmarks: bool = False, gate: bool = True) -> Found:
        return pipeline.detect(self.models, [img], self.steps(landmarks=landmarks, gate=gate))[0]

    def detect(self, image: ImageInput, *, landmarks: bool = False, gate: bool = True) -> list[Face]:
        """Faces, largest first, with box, score, 5 keypoints, head pose and quality.

        ``gate=False`` keeps the detections the non-face gate would drop (video: a track of a
        turning head keeps its low-score frames; the tracker and the quality gates judge them)."""
        return list(self._found(self.load(image), landmarks=landmarks, gate=gate).faces)

    def detect_batch(self, images: Sequence[ImageInput], *, landmarks: bool = False) -> list[list[Face]]:
        imgs = [self.load(im) for im in images]
        return [list(d.faces) for d in pipeline.detect(self.models, imgs, self.steps(landmarks=landmarks))]

    def face_in_box(self, image: ImageInput, box: Sequence[float] | np.ndarray) -> Face:
        """The face inside a caller's box (x1, y1, x2, y2): see :func:`faceprint.pipeline.in_box`."""
        return pipeline.in_box(self.models, self.load(image), box).faces[0]

    def face_at(self, image: ImageInput, box: Sequence[float], *, one_to_one: bool = False) -> Face:
        """:meth:`face_in_box` with its embedding."""
        found = pipeline.in_box(self.models, self.load(image), box)
        return pipeline.embed(self.models, [found], self.flips(one_to_one))[0][0]

    def add_landmarks(self, img: np.ndarray, faces: list[Face]) -> list[Face]:
        return pipeline.add_landmarks(self.models, img, faces)

    def embed(self, image: ImageInput, *, landmarks: bool = False) -> list[Face]:
        """Every face in the image with its L2-normalised template filled in."""
        return self.embed_batch([image], landmarks=landmarks)[0]

    def analyze(self, image: ImageInput) -> list[Face]:
        """Detect, 106 landmarks, pose, quality and embedding for every face."""
        return self.embed(image, landmarks=True)

    def embed_batch(self, images: Sequence[ImageInput], *, landmarks: bool = False) -> list[list[Face]]:
        """Many images: one detector call per input size and one embedder call for all faces."""
        imgs = [self.load(im) for im in images]
        return pipeline.analyse(self.models, imgs, self.steps(landmarks=landmarks))

    def embed_found(self, found: Sequence[Found], *, one_to_one: bool = False) -> list[list[Face]]:
        """Embed faces :func:`faceprint.pipeline.detect` found (all, or those ``found.only`` kept)."""
        return pipeline.embed(self.models, found, self.flips(one_to_one))

    def embed_faces(
        self, imgs: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, one_to_one: bool = False
    ) -> list[list[Face]]:
        """Fill embeddings for already-detected faces of already-loaded BGR images."""
        return self.embed_found([Found.of(img, fs) for img, fs in zip(imgs, faces, strict=True)], one_to_one=one_to_one)

    def as_one_to_one(self, img: np.ndarray, face: Face) -> Face:
        """A face embedded as a gallery template, turned into a 1:1 one (its mirror image fused in)."""
        if face.embedding is None:
            raise NoFaceFound("face has no embedding; pass it through embed() first")
        if self.flips(True) == self.flips(False):
            return face
        return face.with_(embedding=pipeline.fuse_mirrors(self.embedder, [(img, face)], face.embedding[None, :])[0])

    def choose(self, img: np.ndarray, faces: Sequence[Face], choice: FaceChoice = PRIMARY) -> Face:
        """The face ``choice`` names among ``faces`` (largest first): by index, by box, or the primary."""
        return self._chosen(Found.of(img, faces), choice).faces[0]

    def _chosen(self, found: Found, choice: FaceChoice) -> Found:
        if choice.box is not None:
            return pipeline.in_box(self.models, found.image, choice.box)
        if not found.faces:
            raise NoFaceFound("no face found in the image")
        if choice.index is None:
            return found.only(primary_index(found.faces, found.image.shape[1], found.image.shape[0]))
        if choice.index >= len(found.faces):
            raise NoFaceFound(f"face {choice.index} asked for, but the image has {len(found.faces)} (0 is the largest)")
        return found.only(choice.index)

    def template(self, image: ImageInput, *, one_to_one: bool = True, face: FaceChoice = PRIMARY) -> tuple[Face, int]:
        """The chosen face (the primary one unless ``face`` says) with its embedding, and how many
        faces the image held.

        A 1:1 template by default (flip-fused where the pack says so): compare it with other 1:1
        templates under ``calibration_of(True)``. ``one_to_one=False`` gives a gallery-style one.
        """
        img = self.load(image)
        found = self._found(img) if face.box is None else Found.of(img, ())
        chosen = self._chosen(found, face)
        return self.embed_found([chosen], one_to_one=one_to_one)[0][0], max(len(found.faces), 1)

    # -- 1:1 ------------------------------------------------------------------------------
    def compare(
        self, a: ImageInput | Face, b: ImageInput | Face, *, face_a: FaceChoice = PRIMARY, face_b: FaceChoice = PRIMARY
    ) -> Verdict:
        """Two images give 1:1 templates of their primary faces (or the faces ``face_a``/``face_b``
        name); with a ready-made Face the other side is embedded like it."""
        one_to_one = not (isinstance(a, Face) or isinstance(b, Face))
        fa, na = self._as_template(a, one_to_one, SIDES[0], face_a)
        fb, nb = self._as_template(b, one_to_one, SIDES[1], face_b)
        verdict = self.calibration_of(one_to_one).verdict(fa.vector(), fb.vector())
        return replace(verdict, faces_a=na, faces_b=nb, face_a=fa, face_b=fb)

    def compare_any(self, a: ImageInput | Face, photo: ImageInput, *, face_a: FaceChoice = PRIMARY) -> PhotoVerdict:
        """Is the person of ``a`` anywhere in ``photo``? Every face of the photo is scored; the
        verdict holds the false-accept rate per photo (each of n faces at FAR/n)."""
        one_to_one = not isinstance(a, Face)
        probe, n_probe = self._as_template(a, one_to_one, SIDES[0], face_a)
        found = self._found(self.load(photo))
        if not found.faces:
            raise NoFaceFound("no face found in the photo").about(source_name(photo, SIDES[1]))
        embedded = self.embed_found([found], one_to_one=one_to_one)[0]
        return score_photo(probe, n_probe, embedded, self.calibration_of(one_to_one))

    def _as_template(self, x: ImageInput | Face, one_to_one: bool, side: str, choice: FaceChoice = PRIMARY) -> tuple[Face, int]:
        if isinstance(x, Face) and x.embedding is not None:
            return x, 1
        if isinstance(x, Face):
            raise NoFaceFound("face has no embedding; pass it through embed() first").about(side)
        try:
            return self.template(x, one_to_one=one_to_one, face=choice)
        except FaceprintError as exc:
            raise exc.about(source_name(x, side)) from None
