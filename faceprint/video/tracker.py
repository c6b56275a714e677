"""ByteTrack-style face tracker: a constant-velocity Kalman filter and two-stage IoU association.

Zhang et al., "ByteTrack: Multi-Object Tracking by Associating Every Detection Box" (ECCV 2022):

1. tracks (active and recently lost) take the high-score detections first, by IoU fused with score;
2. active tracks still unmatched take the low-score detections (blurred, half-occluded faces)
   that other trackers throw away, so a track survives a frame where its face scores low;
3. a new track starts from an unmatched high-score detection; one that is not seen again on the
   next detection frame is dropped; a lost track is kept ``max_lost_s`` seconds, then removed.

``update`` returns the frame's detections that belong to a track, with ``tracker_id`` filled
in; ``predict`` returns each active track's predicted box for a frame the detector skipped.
The state is ``(cx, cy, aspect, h)`` and their velocities, per nominal frame step, so a
variable frame rate advances the model by the true elapsed time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..boxes import box_iou
from .detections import Detections

_W_POS, _W_VEL = 1.0 / 20, 1.0 / 160  # ByteTrack's noise weights, relative to box height
_F = np.eye(8)
_H = np.eye(4, 8)

TRACKED, LOST = 0, 1


@dataclass(frozen=True)
class TrackerConfig:
    high_score: float | None = None  # at or above: first association; None: the pack's detector threshold
    low_score: float = 0.3  # between low and high: second association only (the engine must report them)
    new_track_score: float | None = None  # an unmatched detection needs this to start a track; None: high + 0.05
    match_iou: float = 0.2  # first stage: fused IoU x score must exceed this
    low_match_iou: float = 0.5  # second stage: plain IoU must exceed this
    confirm_iou: float = 0.3  # a new track's second sighting
    max_lost_s: float = 1.0  # a track unseen this long is ended
    frame_rate: float = 30.0  # nominal rate that one Kalman step stands for


def _xyxy_to_xyah(b: np.ndarray) -> np.ndarray:
    w, h = b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]
    return np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2, w / np.maximum(h, 1e-6), h], axis=-1)


def _xyah_to_xyxy(m: np.ndarray) -> np.ndarray:
    h = m[..., 3]
    w = m[..., 2] * h
    return np.stack([m[..., 0] - w / 2, m[..., 1] - h / 2, m[..., 0] + w / 2, m[..., 1] + h / 2], axis=-1)


class _Track:
    __slots__ = ("confirmed", "cov", "id", "last_seen", "mean", "score", "state")

    def __init__(self, tid: int, box: np.ndarray, score: float, t: float, confirmed: bool) -> None:
        z = _xyxy_to_xyah(box.astype(np.float64))
        self.id, self.state, self.confirmed, self.score, self.last_seen = tid, TRACKED, confirmed, score, t
        self.mean = np.concatenate([z, np.zeros(4)])
        h = z[3]
        std = np.array([2 * _W_POS * h, 2 * _W_POS * h, 1e-2, 2 * _W_POS * h,
                        10 * _W_VEL * h, 10 * _W_VEL * h, 1e-5, 10 * _W_VEL * h])  # fmt: skip
        self.cov = np.diag(std**2)

    def predict(self, steps: float) -> None:
        f = _F.copy()
        f[:4, 4:] = np.eye(4) * steps
        if self.state != TRACKED:
            self.mean[7] = 0.0  # a lost face's box stops growing or shrinking
        h = self.mean[3]
        std = np.array([_W_POS * h, _W_POS * h, 1e-2, _W_POS * h, _W_VEL * h, _W_VEL * h, 1e-5, _W_VEL * h])
        self.mean = f @ self.mean
        self.cov = f @ self.cov @ f.T + np.diag(std**2) * max(steps, 1e-3)

    def update(self, box: np.ndarray, score: float, t: float) -> None:
        z = _xyxy_to_xyah(box.astype(np.float64))
        h = self.mean[3]
        r = np.diag(np.array([_W_POS * h, _W_POS * h, 1e-1, _W_POS * h]) ** 2)
        s = _H @ self.cov @ _H.T + r
        gain = np.linalg.solve(s, (self.cov @ _H.T).T).T
        self.mean = self.mean + gain @ (z - _H @ self.mean)
        self.cov = self.cov - gain @ s @ gain.T
        self.state, self.score, self.last_seen = TRACKED, score, t

    @property
    def box(self) -> np.ndarray:
        return _xyah_to_xyxy(self.mean[:4]).astype(np.float32)


def _greedy(sim: np.ndarray, floor: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pairs by falling similarity, each row and column used once, similarity above ``floor``."""
    pairs: list[tuple[int, int]] = []
    if sim.size:
        rows, cols = np.nonzero(sim > floor)
        order = np.argsort(-sim[rows, cols], kind="stable")
        used_r, used_c = set(), set()
        for k in order:
            r, c = int(rows[k]), int(cols[k])
            if r not in used_r and c not in used_c:
                pairs.append((r, c))
                used_r.add(r)
                used_c.add(c)
    matched_r = {r for r, _ in pairs}
    matched_c = {c for _, c in pairs}
    return pairs, [r for r in range(sim.shape[0]) if r not in matched_r], [c for c in range(sim.shape[1]) if c not in matched_c]


class ByteTracker:
    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._time: float | None = None
        self._fresh = True  # the first frame, or the first after a cut: new tracks are confirmed at once

    @property
    def active_ids(self) -> list[int]:
        return [t.id for t in self._tracks if t.state == TRACKED and t.confirmed]

    def reset(self) -> None:
        """End every track (a shot cut): nothing seen before may continue a track after it."""
        self._tracks = []
        self._fresh = True

    def _advance(self, t: float) -> None:
        steps = 1.0 if self._time is None else max(t - self._time, 0.0) * self.config.frame_rate
        self._time = t
        for tr in self._tracks:
            tr.predict(steps)

    def predict(self, t: float) -> Detections:
        """Move every track to time ``t`` without detections; the confirmed active ones' boxes."""
        self._advance(t)
        shown = [tr for tr in self._tracks if tr.state == TRACKED and tr.confirmed]
        if not shown:
            return Detections.empty()
        return Detections.build(
            np.stack([tr.box for tr in shown]),
            np.array([tr.score for tr in shown]),
            tracker_id=np.array([tr.id for tr in shown]),
            detected=np.zeros(len(shown), bool),
        )

    def update(self, dets: Detections, t: float) -> Detections:
        """Associate this frame's detections; returns those that belong to a track, ids filled in."""
        cfg = self.config
        hi = 0.5 if cfg.high_score is None else cfg.high_score
        new_score = hi + 0.05 if cfg.new_track_score is None else cfg.new_track_score
        self._advance(t)
        ids = np.full(len(dets), -1, np.int64)
        score = dets.confidence
        high = np.flatnonzero(score >= hi)
        low = np.flatnonzero((score >= cfg.low_score) & (score < hi))
        confirmed = [tr for tr in self._tracks if tr.confirmed]
        fresh = [tr for tr in self._tracks if not tr.confirmed]

        # 1. confirmed tracks (active and lost) x high-score detections, IoU fused with score
        sim = box_iou(self._boxes(confirmed), dets.xyxy[high]) * score[high][None, :]
        pairs, left_tracks, left_high = _greedy(sim, cfg.match_iou)
        for r, c in pairs:
            self._take(confirmed[r], dets, high[c], t, ids)
        # 2. still-active tracks x low-score detections
        active = [confirmed[r] for r in left_tracks if confirmed[r].state == TRACKED]
        pairs, left_active, _ = _greedy(box_iou(self._boxes(active), dets.xyxy[low]), cfg.low_match_iou)
        for r, c in pairs:
            self._take(active[r], dets, low[c], t, ids)
        for r in left_active:
            active[r].state = LOST
        # 3. last frame's new tracks x remaining high detections: seen twice, they are confirmed
        rest = high[left_high]
        pairs, left_fresh, left_rest = _greedy(box_iou(self._boxes(fresh), dets.xyxy[rest]), cfg.confirm_iou)
        for r, c in pairs:
            fresh[r].confirmed = True
            self._take(fresh[r], dets, rest[c], t, ids)
        dropped = {id(fresh[r]) for r in left_fresh}
        # 4. new tracks; on a first frame (of the video, as in ByteTrack, or of a shot) confirmed at once
        first, self._fresh = self._fresh, False
        for c in left_rest:
            i = rest[c]
            if score[i] >= new_score:
                tr = _Track(self._next_id, dets.xyxy[i], float(score[i]), t, confirmed=first)
                self._next_id += 1
                self._tracks.append(tr)
                ids[i] = tr.id
        # 5. forget dropped new tracks and tracks lost for too long
        self._tracks = [
            tr for tr in self._tracks if id(tr) not in dropped and (tr.state == TRACKED or t - tr.last_seen <= cfg.max_lost_s)
        ]
        keep = ids >= 0
        return dets[keep].with_tracker_id(ids[keep])

    def _take(self, tr: _Track, dets: Detections, i: int, t: float, ids: np.ndarray) -> None:
        tr.update(dets.xyxy[i], float(dets.confidence[i]), t)
        ids[i] = tr.id

    @staticmethod
    def _boxes(tracks: list[_Track]) -> np.ndarray:
        return np.stack([tr.box for tr in tracks]) if tracks else np.zeros((0, 4), np.float32)
