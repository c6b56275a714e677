""""Is this person anywhere in this photo?": one face scored against every face of a photo.

With n faces in the photo there are n chances of a false accept, so the answer is held to a
false-accept rate *per photo*. Each face's similarity is turned into the per-face FAR the
calibration gives it (log-linear between the calibrated knots); the photo's FAR is the
Bonferroni bound ``min(1, n * FAR_face)``. A photo matches at level L when that bound is at most
L, i.e. when its best face reaches the similarity a single face needs at FAR L / n.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .compare import FAR_LEVELS, Calibration
from .errors import NoFaceFound
from .types import Face


@dataclass(frozen=True)
class FaceScore:
    index: int  # the face's number in the photo (largest first, as ``detect`` lists them)
    face: Face = field(compare=False, repr=False)
    similarity: float
    confidence: float  # 0-100, the single-face scale of ``compare``
    far_per_face: float  # the false-accept rate a single face at this similarity has


@dataclass(frozen=True)
class PhotoVerdict:
    """The probe's face against every face of the photo, with the per-photo correction."""

    probe: Face = field(compare=False, repr=False)
    scores: tuple[FaceScore, ...]  # every face of the photo, in index order
    best: int  # index of the best-scoring face
    faces_probe: int  # faces found in the probe image
    far_per_photo: float  # min(1, n * far_per_face of the best face)
    thresholds: dict[str, float]  # Face++'s confidence thresholds, for ``confidence``
    face_thresholds: dict[str, float]  # level -> confidence one face needs for the *photo* to hold it
    confidence: float  # the best face's confidence, corrected: what one face at far_per_photo scores

    @property
    def faces(self) -> int:
        return len(self.scores)

    @property
    def best_face(self) -> FaceScore:
        return self.scores[self.best]

    def match(self, far: str = "1e-5") -> bool:
        return self.far_per_photo <= float(far)

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": "any-face",
            "correction": f"per-photo FAR: each of the {self.faces} faces is held to FAR/{self.faces} (Bonferroni)",
            "faces_found": [self.faces_probe, self.faces],
            "best_face": self.best,
            "face_rectangle": [round(float(v), 2) for v in self.best_face.face.bbox],
            "similarity": round(self.best_face.similarity, 5),
            "confidence_face": round(self.best_face.confidence, 3),
            "confidence": round(self.confidence, 3),
            "far_per_photo": float(f"{self.far_per_photo:.3g}"),
            "thresholds": {k: round(v, 3) for k, v in self.thresholds.items()},
            "face_thresholds": {k: round(v, 3) for k, v in self.face_thresholds.items()},
            "match": {k: self.match(k) for k in FAR_LEVELS},
            "faces": [
                {
                    "index": s.index,
                    "face_rectangle": [round(float(v), 2) for v in s.face.bbox],
                    "similarity": round(s.similarity, 5),
                    "confidence": round(s.confidence, 3),
                    "far_per_face": float(f"{s.far_per_face:.3g}"),
                }
                for s in self.scores
            ],
        }


def score_photo(probe: Face, faces_probe: int, faces: list[Face], cal: Calibration) -> PhotoVerdict:
    """``faces`` are embedded like ``probe``; at least one. Pure: no model runs here."""
    if probe.embedding is None or not faces or any(f.embedding is None for f in faces):
        raise NoFaceFound("no face found in the photo")
    scores = []
    for i, f in enumerate(faces):
        sim = float(probe.embedding @ f.embedding)
        scores.append(FaceScore(i, f, sim, float(cal.confidence(sim)), cal.far_at(sim)))
    best = max(range(len(scores)), key=lambda i: scores[i].similarity)
    n = len(faces)
    photo_far = min(1.0, n * scores[best].far_per_face)
    needed = {k: float(cal.confidence(cal.similarity_at(float(k) / n))) for k in FAR_LEVELS}
    corrected = float(cal.confidence(cal.similarity_at(photo_far)))
    return PhotoVerdict(probe, tuple(scores), best, faces_probe, photo_far, cal.thresholds, needed, corrected)
