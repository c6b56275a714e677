"""Each track keeps its few best faces as small crops, and a crop embeds exactly as the full frame."""

from __future__ import annotations

import numpy as np

from faceprint.video import ByteTracker, Detections, TrackletConfig
from faceprint.video.tracklets import TrackletCollector

from .support import clip_frames


def test_best_faces_by_quality_spaced_in_time(hamilton, vengine):
    frames = clip_frames(hamilton, 90, 150)  # Lin-Manuel Miranda close up: one track
    collector = TrackletCollector(TrackletConfig(keep=3, min_gap_s=0.2))
    tracker = ByteTracker()
    qualities: list[tuple[float, float]] = []
    for k, img in enumerate(frames):
        t = k / 30
        dets = tracker.update(Detections.from_faces(vengine.detect(img)), t)
        collector.observe(k, t, img, dets)
        qualities += [(t, float(q)) for q in dets.quality]
    (tr,) = collector.tracklets.values()
    assert tr.detections == len(frames) and len(tr.candidates) == 3
    kept = [c.quality for c in tr.candidates]
    assert kept == sorted(kept, reverse=True) and kept[0] == max(q for _, q in qualities)
    times = sorted(c.time_s for c in tr.candidates)
    assert min(np.diff(times)) >= 0.2
    # nothing left out beats the third kept face unless it is within 0.2 s of a better kept one
    for t, q in qualities:
        if q > kept[-1]:
            assert any(abs(c.time_s - t) < 0.2 and c.quality >= q for c in tr.candidates)

    # the crop is small but embeds as the whole frame does
    best = tr.candidates[0]
    side = float(max(best.bbox[2] - best.bbox[0], best.bbox[3] - best.bbox[1]))
    assert max(best.crop.shape[:2]) <= 2.5 * side + 2  # the face and 0.75 of its size around it
    on_crop = vengine.embed_faces([best.crop], [[best.face]])[0][0].embedding
    full = frames[best.frame_index]
    whole = vengine.embed_faces([full], [[best.face.with_(bbox=best.bbox, kps=best.face.kps + (best.bbox[:2] - best.face.bbox[:2]))]])
    assert float(on_crop @ whole[0][0].embedding) > 0.999
    thumb = best.thumbnail()
    assert thumb.ndim == 3 and max(thumb.shape[:2]) <= 112


def test_predicted_rows_are_history_not_candidates(hamilton, vengine):
    frames = clip_frames(hamilton, 90, 99)
    tracker, collector = ByteTracker(), TrackletCollector()
    for k, img in enumerate(frames):
        t = k / 30
        dets = tracker.update(Detections.from_faces(vengine.detect(img)), t) if k % 3 == 0 else tracker.predict(t)
        collector.observe(k, t, img, dets)
    (tr,) = collector.tracklets.values()
    assert tr.frames == list(range(9)) and tr.detected == [k % 3 == 0 for k in range(9)]
    assert {c.frame_index for c in tr.candidates} <= {0, 3, 6} and tr.last_detected() == 6
