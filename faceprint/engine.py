"""FaceEngine: the one object that detects, aligns, embeds and compares faces.

    engine = FaceEngine()                 # default pack, or FaceEngine("sface")
    faces = engine.detect("group.jpg")    # boxes, keypoints, pose, quality
    verdict = engine.compare("a.jpg", "b.jpg")
    anywhere = engine.compare_any("person.jpg", "crowd.jpg")   # every face of the crowd, per-photo FAR
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .align import align_crop, mirror
from .anyface import PhotoVerdict, score_photo
from .choose import PRIMARY, FaceChoice, primary_index, template_keypoints
from .compare import Calibration, calibration_for, cosine
from .embed.base import l2_normalize
from .errors import BadInput, FaceprintError, NoFaceFound
from .gate import GATES, keep_faces
from .image import DEFAULT_LIMITS, ImageInput, ImageLimits, load_image, source_name
from .models.packs import BuildOptions, Pack, get_pack
from .pose import estimate_pose
from .quality import assess
from .types import Face, Verdict

SIDES = ("the first image", "the second image")  # how compare's errors name in-memory inputs


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


class FaceEngine:
    def __init__(self, pack: str | None = None, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.pack: Pack = get_pack(pack or self.config.pack)
        parts = self.pack.build(
            BuildOptions(threads=self.config.threads, det_size=self.config.det_size, det_threshold=self.config.det_threshold)
        )
        self.detector, self.embedder, self.landmarker = parts.detector, parts.embedder, parts.landmarker
        self._calibrations: dict[str, Calibration] = {}
        self.gate = GATES.get(self.pack.name) if self.config.face_gate else None

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

    # -- detection ------------------------------------------------------------------------
    def detect(self, image: ImageInput, *, landmarks: bool = False, gate: bool = True) -> list[Face]:
        """Faces, largest first, with box, score, 5 keypoints, head pose and quality.

        ``gate=False`` keeps the detections the non-face gate would drop (video: a track of a
        turning head keeps its low-score frames; the tracker and the quality gates judge them)."""
        img = self.load(image)
        return self._finish(img, self.detector.detect(img), landmarks, gate=gate)

    def detect_batch(self, images: Sequence[ImageInput], *, landmarks: bool = False) -> list[list[Face]]:
        imgs = [self.load(im) for im in images]
        return [self._finish(img, faces, landmarks) for img, faces in zip(imgs, self.detector.detect_batch(imgs))]

    def _finish(self, img: np.ndarray, faces: list[Face], landmarks: bool, *, gate: bool = True) -> list[Face]:
        if self.config.min_face:
            faces = [f for f in faces if f.width >= self.config.min_face]
        faces = sorted(faces, key=lambda f: -f.area)
        size = (img.shape[1], img.shape[0])
        out = []
        for f in faces:
            pose = estimate_pose(f.kps, size)
            out.append(f.with_(pose=pose, quality=assess(align_crop(img, f.kps), f.kps, pose)))
        if gate:
            out = keep_faces(self.gate, self.embedder, img, out)
        if landmarks:
            out = self.add_landmarks(img, out)
        return out

    def face_in_box(self, image: ImageInput, box: Sequence[float] | np.ndarray) -> Face:
        """The face inside a caller's box (x1, y1, x2, y2): the box *is* the face, no detection runs.

        The dense landmarker runs inside the box and gives the 5 alignment keypoints (for a pack
        without one, the alignment template is laid over the box); pose and quality follow from
        them, as for a detected face. This is what Face++ ``face_rectangle`` means.
        """
        img = self.load(image)
        height, width = img.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in box)
        if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
            raise BadInput(f"box {x1:g},{y1:g},{x2:g},{y2:g} does not lie inside the {width}x{height} image", param="box")
        bbox = np.array([x1, y1, x2, y2], np.float32)
        face = Face(bbox=bbox, score=1.0, kps=template_keypoints(bbox))
        if self.landmarker is not None and self.landmarker.five is not None:
            pts = self.landmarker.landmarks(img, [face])[0]
            face = face.with_(kps=pts[list(self.landmarker.five)], landmarks=pts)
        pose = estimate_pose(face.kps, (width, height))
        return face.with_(pose=pose, quality=assess(align_crop(img, face.kps), face.kps, pose))

    def face_at(self, image: ImageInput, box: Sequence[float], *, one_to_one: bool = False) -> Face:
        """:meth:`face_in_box` with its embedding."""
        img = self.load(image)
        return self.embed_faces([img], [[self.face_in_box(img, box)]], one_to_one=one_to_one)[0][0]

    def add_landmarks(self, img: np.ndarray, faces: list[Face]) -> list[Face]:
        if self.landmarker is None or not faces:
            return faces
        pts = self.landmarker.landmarks(img, faces)
        return [f.with_(landmarks=p) for f, p in zip(faces, pts)]

    # -- embedding ------------------------------------------------------------------------
    def embed(self, image: ImageInput, *, landmarks: bool = False) -> list[Face]:
        """Every face in the image with its L2-normalised template filled in."""
        return self.embed_batch([image], landmarks=landmarks)[0]

    def analyze(self, image: ImageInput) -> list[Face]:
        """Detect, 106 landmarks, pose, quality and embedding for every face."""
        return self.embed(image, landmarks=True)

    def embed_batch(self, images: Sequence[ImageInput], *, landmarks: bool = False) -> list[list[Face]]:
        """Many images: one detector call per input size and one embedder call for all faces."""
        imgs = [self.load(im) for im in images]
        detected = [self._finish(img, faces, landmarks) for img, faces in zip(imgs, self.detector.detect_batch(imgs))]
        return self.embed_faces(imgs, detected)

    def embed_faces(
        self, imgs: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, one_to_one: bool = False
    ) -> list[list[Face]]:
        """Fill embeddings for already-detected faces of already-loaded BGR images."""
        items = [(img, f) for img, fs in zip(imgs, faces) for f in fs]
        vecs = self.embedder.embed(items)
        if self.flips(one_to_one) and items:
            vecs = self._fuse_mirrors(items, vecs)
        out: list[list[Face]] = []
        k = 0
        for fs in faces:
            out.append([f.with_(embedding=vecs[k + j]) for j, f in enumerate(fs)])
            k += len(fs)
        return out

    def _fuse_mirrors(self, items: Sequence[tuple[np.ndarray, Face]], vecs: np.ndarray) -> np.ndarray:
        mirrored = []
        for img, f in items:
            m_img, m_kps, m_box = mirror(img, f.kps, f.bbox)
            mirrored.append((m_img, f.with_(kps=m_kps, bbox=m_box)))
        return l2_normalize(vecs + self.embedder.embed(mirrored))

    def as_one_to_one(self, img: np.ndarray, face: Face) -> Face:
        """A face embedded as a gallery template, turned into a 1:1 one (its mirror image fused in)."""
        if face.embedding is None:
            raise NoFaceFound("face has no embedding; pass it through embed() first")
        if self.flips(True) == self.flips(False):
            return face
        return face.with_(embedding=self._fuse_mirrors([(img, face)], face.embedding[None, :])[0])

    def choose(self, img: np.ndarray, faces: Sequence[Face], choice: FaceChoice = PRIMARY) -> Face:
        """The face ``choice`` names among ``faces`` (largest first): by index, by box, or the primary."""
        if choice.box is not None:
            return self.face_in_box(img, choice.box)
        if not faces:
            raise NoFaceFound("no face found in the image")
        if choice.index is None:
            return faces[primary_index(faces, img.shape[1], img.shape[0])]
        if choice.index >= len(faces):
            raise NoFaceFound(f"face {choice.index} asked for, but the image has {len(faces)} (0 is the largest)")
        return faces[choice.index]

    def template(self, image: ImageInput, *, one_to_one: bool = True, face: FaceChoice = PRIMARY) -> tuple[Face, int]:
        """The chosen face (the primary one unless ``face`` says) with its embedding, and how many
        faces the image held.

        A 1:1 template by default (flip-fused where the pack says so): compare it with other 1:1
        templates under ``calibration_of(True)``. ``one_to_one=False`` gives a gallery-style one.
        """
        img = self.load(image)
        faces = self._finish(img, self.detector.detect(img), False) if face.box is None else []
        chosen = self.choose(img, faces, face)
        return self.embed_faces([img], [[chosen]], one_to_one=one_to_one)[0][0], max(len(faces), 1)

    # -- 1:1 ------------------------------------------------------------------------------
    def compare(
        self, a: ImageInput | Face, b: ImageInput | Face, *, face_a: FaceChoice = PRIMARY, face_b: FaceChoice = PRIMARY
    ) -> Verdict:
        """Two images give 1:1 templates of their primary faces (or the faces ``face_a``/``face_b``
        name); with a ready-made Face the other side is embedded like it."""
        one_to_one = not (isinstance(a, Face) or isinstance(b, Face))
        fa, na = self._as_template(a, one_to_one, SIDES[0], face_a)
        fb, nb = self._as_template(b, one_to_one, SIDES[1], face_b)
        assert fa.embedding is not None and fb.embedding is not None
        sim = cosine(fa.embedding, fb.embedding)
        cal = self.calibration_of(one_to_one)
        return Verdict(
            similarity=sim,
            confidence=float(cal.confidence(sim)),
            thresholds=cal.thresholds,
            faces_a=na,
            faces_b=nb,
            face_a=fa,
            face_b=fb,
        )

    def compare_any(self, a: ImageInput | Face, photo: ImageInput, *, face_a: FaceChoice = PRIMARY) -> PhotoVerdict:
        """Is the person of ``a`` anywhere in ``photo``? Every face of the photo is scored; the
        verdict holds the false-accept rate per photo (each of n faces at FAR/n)."""
        one_to_one = not isinstance(a, Face)
        probe, n_probe = self._as_template(a, one_to_one, SIDES[0], face_a)
        img = self.load(photo)
        faces = self._finish(img, self.detector.detect(img), False)
        if not faces:
            raise NoFaceFound("no face found in the photo").about(source_name(photo, SIDES[1]))
        embedded = self.embed_faces([img], [faces], one_to_one=one_to_one)[0]
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
