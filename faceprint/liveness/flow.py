"""The FaceID-style flow: a reference and a challenge first, then a clip that must be live, the
same person as the reference, and (when enforced) pass the passive check.

    flow = FaceIDFlow(engine, SessionStore(path))
    issued = flow.start(flow.reference_from_image("id_photo.jpg"), tenant="t1")   # biz_token
    result = flow.verify(issued.nonce, FrameSequence.from_video("clip.mp4"), tenant="t1")
    result.decision, result.reasons

The comparison uses the sharpest near-frontal frame of the live track (the verifier has
already checked that every frame of the track shows the same person). Its ``confidence`` and
``thresholds`` are the engine's calibrated Face++-style values; the flow accepts a match at
``config.far``. The passive detector's score is always reported. By default
(``pad_detector="auto"``) it is the trained ``minifasnet`` when its weights are installed, and
then it decides; without them it is the ``glare`` heuristic, reported only (measurements and
reasoning: docs/liveness.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..compare import FAR_LEVELS
from ..engine import FaceEngine
from ..errors import NoFaceFound
from ..image import ImageInput
from .actions import Action
from .errors import InvalidReference
from .pad import PADDetector, PADModelMissing, PADOptions, PADResult, get_detector
from .sequence import FrameSequence
from .session import DEFAULT_TTL_S, IssuedSession, SessionStore
from .track import FrameObservation, observe
from .verifier import (
    DEFAULT_CONFIG,
    LivenessConfig,
    LivenessResult,
    verify_observations,
)

FACE_MISMATCH = "FACE_MISMATCH"
PAD_ATTACK = "PAD_ATTACK"
AUTO = "auto"  # the trained detector when its weights are installed, else the glare heuristic
TRAINED, FALLBACK = "minifasnet", "glare"


@dataclass(frozen=True)
class FlowConfig:
    liveness: LivenessConfig = DEFAULT_CONFIG
    pad_detector: str | None = AUTO  # a registered detector, "auto", or None: no passive check at all
    pad_enforce: bool | None = None  # True: a passive "attack" verdict fails the flow; None: only a trained one's
    pad_options: PADOptions = field(default_factory=PADOptions)
    far: str = "1e-4"  # operating point of the reference comparison
    session_ttl_s: float = DEFAULT_TTL_S


@dataclass(frozen=True)
class Reference:
    embedding: np.ndarray  # (D,) unit template
    kind: str  # "image", "face_token" or "subject"
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class FaceIDResult:
    decision: bool
    reasons: tuple[str, ...]  # every reason the decision is negative; empty when it passes
    liveness: LivenessResult
    pad: PADResult | None
    compare: dict[str, Any] | None  # similarity, confidence, thresholds, match, frame
    pad_enforced: bool = False

    @property
    def result(self) -> str:
        return "ACCEPT" if self.decision else "REJECT"

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.result,  # spelt as POST /v1/faceid/verify's "result"
            "reasons": list(self.reasons),
            "liveness": self.liveness.to_dict(),
            "pad": None if self.pad is None else {**self.pad.to_dict(), "enforced": self.pad_enforced},
            "compare": self.compare,
        }


def resolve_pad(config: FlowConfig) -> tuple[PADDetector | None, bool]:
    """The flow's passive detector and whether it decides. ``auto`` falls back to glare only when
    the trained weights are absent: present but tampered weights raise, never pass silently."""
    name = config.pad_detector
    if name is None:
        return None, False
    if name == AUTO:
        try:
            det = get_detector(TRAINED, config.pad_options)
        except PADModelMissing:
            det = get_detector(FALLBACK, config.pad_options)
    else:
        det = get_detector(name, config.pad_options)
    return det, det.probability if config.pad_enforce is None else config.pad_enforce


class FaceIDFlow:
    def __init__(self, engine: FaceEngine, store: SessionStore | None = None, config: FlowConfig | None = None) -> None:
        self.engine = engine
        self.store = store or SessionStore()
        self.config = config or FlowConfig()
        if self.config.far not in FAR_LEVELS:
            raise InvalidReference(f"far must be one of {', '.join(FAR_LEVELS)}", param="far")
        self.pad, self.pad_enforce = resolve_pad(self.config)

    def reference_from_image(self, image: ImageInput) -> Reference:
        try:
            face, n = self.engine.template(image, one_to_one=False)  # compared with video-frame templates
        except NoFaceFound:
            raise InvalidReference("no face found in the reference image", param="image") from None
        return Reference(face.vector(), "image", {"faces_found": n})

    def start(
        self, reference: Reference | None = None, *, tenant: str = "", actions: tuple[Action, ...] | None = None
    ) -> IssuedSession:
        if reference is not None and reference.embedding.shape != (self.engine.dim,):
            raise InvalidReference(f"the reference template has {reference.embedding.shape[-1]} dimensions; "
                                   f"this pack's have {self.engine.dim}")  # fmt: skip
        return self.store.issue(
            actions, tenant=tenant, ttl_s=self.config.session_ttl_s,
            reference=None if reference is None else reference.embedding,
            reference_info=None if reference is None else {"kind": reference.kind, **reference.info},
        )  # fmt: skip

    def verify(self, nonce: str, seq: FrameSequence, *, tenant: str = "") -> FaceIDResult:
        """Spend the session (NonceReused / SessionExpired / NonceUnknown if it cannot be) and judge the clip."""
        challenge = self.store.consume(nonce, tenant=tenant)
        return self.judge(challenge.actions, seq, challenge.reference, challenge.reference_info)

    def judge(self, actions: tuple[Action, ...], seq: FrameSequence, reference: np.ndarray | None = None,
              reference_info: dict[str, Any] | None = None, *,
              observations: list[FrameObservation] | None = None) -> FaceIDResult:  # fmt: skip
        """Liveness, passive score and comparison for a clip against a challenge (no session).

        ``observations``: this engine's :func:`observe` of ``seq``, when already computed.
        """
        obs = observations if observations is not None else observe(self.engine, seq)
        live = verify_observations(obs, actions, self.config.liveness)
        reasons = list(live.reasons)
        pad = None
        if self.pad is not None and live.track is not None:
            pad = self.pad.score_frames(seq.images, live.track.faces)
            if self.pad_enforce and pad.attack:
                reasons.append(PAD_ATTACK)
        compare = None
        if reference is not None:
            compare = self._compare(live, reference, reference_info or {})
            if compare is None or not compare["match"]:
                reasons.append(FACE_MISMATCH)
        return FaceIDResult(not reasons, tuple(dict.fromkeys(reasons)), live, pad, compare, self.pad_enforce and pad is not None)

    def _compare(self, live: LivenessResult, reference: np.ndarray, info: dict[str, Any]) -> dict[str, Any] | None:
        if live.best_frame is None or live.track is None:
            return None
        face = live.track.faces[live.best_frame]
        if face is None or face.embedding is None:
            return None
        verdict = self.engine.calibration.verdict(reference, face.embedding)
        return {
            "reference": info.get("kind", "template"),
            "frame": live.best_frame,
            "time": round(float(live.track.times[live.best_frame]), 3),
            "similarity": round(verdict.similarity, 5),
            "confidence": round(verdict.confidence, 3),
            "thresholds": {k: round(v, 3) for k, v in verdict.thresholds.items()},
            "far": self.config.far,
            "match": verdict.match(self.config.far),
        }
