"""ByteTrack-style tracking: motion, both association stages, misses, cuts; then ids on the real clip."""

from __future__ import annotations

import numpy as np
import pytest

from faceprint.video import ByteTracker, Detections, TrackerConfig

FPS = 30.0


def box(cx: float, cy: float, w: float = 60.0, h: float = 70.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def dets(*rows: tuple[list[float], float]) -> Detections:
    if not rows:
        return Detections.empty()
    return Detections.build(np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))


def tracker(**kw) -> ByteTracker:
    return ByteTracker(TrackerConfig(high_score=0.5, low_score=0.2, frame_rate=FPS, **kw))


def test_a_moving_face_keeps_its_id_and_is_predicted_between_detections():
    tr = tracker()
    ids, errors = set(), []
    for k in range(90):  # 4 px per frame to the right, detector on every 3rd frame
        t, x = k / FPS, 100 + 4 * k
        if k % 3 == 0:
            out = tr.update(dets((box(x, 200), 0.9)), t)
        else:
            out = tr.predict(t)
            if k > 6:
                errors.append(abs((out.xyxy[0, 0] + out.xyxy[0, 2]) / 2 - x))
        assert len(out) == 1
        ids.add(int(out.tracker_id[0]))
        assert bool(out.detected[0]) == (k % 3 == 0)
    assert ids == {1}
    assert max(errors) < 3.0  # the Kalman velocity carries the box between detections


def test_low_score_detections_keep_a_track_alive():
    for low, expect in ((0.2, [1]), (0.5, [])):  # second stage on, then off
        tr = tracker() if low == 0.2 else ByteTracker(TrackerConfig(high_score=0.5, low_score=0.5, frame_rate=FPS))
        for k in range(5):
            tr.update(dets((box(100 + k, 100), 0.9)), k / FPS)
        blurred = tr.update(dets((box(105, 100), 0.3)), 5 / FPS)  # motion blur: the score drops
        assert blurred.tracker_id.tolist() == expect
    # a low-score detection never starts a track of its own
    assert len(tracker().update(dets((box(300, 300), 0.3)), 0.0)) == 0


def test_short_miss_keeps_the_id_long_miss_does_not():
    tr = tracker(max_lost_s=1.0)
    for k in range(10):
        tr.update(dets((box(100 + 2 * k, 100), 0.9)), k / FPS)
    for k in range(10, 25):  # hidden for half a second: the track is lost, not gone
        assert len(tr.update(dets(), k / FPS)) == 0
    back = tr.update(dets((box(150, 100), 0.9)), 25 / FPS)
    assert back.tracker_id.tolist() == [1]
    for k in range(26, 26 + 45):  # 1.5 s away: ended
        tr.update(dets(), k / FPS)
    again = tr.update(dets((box(150, 100), 0.9)), 71 / FPS)
    assert again.tracker_id.tolist() != [1]


def test_crossing_faces_keep_their_ids():
    tr = tracker()
    seen: dict[int, list[float]] = {}
    for k in range(60):  # A moves right, B moves left, boxes overlap for several frames
        a, b = box(100 + 5 * k, 200), box(400 - 5 * k, 230)
        out = tr.update(dets((a, 0.9), (b, 0.85)), k / FPS)
        for i in range(len(out)):
            seen.setdefault(int(out.tracker_id[i]), []).append(float(out.xyxy[i, 0] + out.xyxy[i, 2]) / 2)
    assert len(seen) == 2
    a_id, b_id = sorted(seen, key=lambda i: seen[i][0])
    assert np.all(np.diff(seen[a_id]) > 0) and np.all(np.diff(seen[b_id]) < 0)


def test_a_new_track_needs_a_second_sighting():
    tr = tracker()
    tr.update(dets((box(100, 100), 0.9)), 0.0)  # the first frame's tracks are confirmed at once
    out = tr.update(dets((box(100, 100), 0.9), (box(400, 100), 0.9)), 1 / FPS)
    new = int(out.tracker_id[1])
    assert new == 2 and tr.active_ids == [1]  # reported with its id, not yet confirmed
    assert tr.predict(2 / FPS).tracker_id.tolist() == [1]
    tr.update(dets((box(100, 100), 0.9)), 3 / FPS)  # not seen again: dropped
    out = tr.update(dets((box(100, 100), 0.9), (box(400, 100), 0.9)), 4 / FPS)
    assert out.tracker_id.tolist() == [1, 3]


def test_reset_ends_every_track_and_ids_are_never_reused():
    tr = tracker()
    for k in range(3):
        tr.update(dets((box(100, 100), 0.9)), k / FPS)
    tr.reset()
    assert tr.active_ids == [] and len(tr.predict(3 / FPS)) == 0
    assert tr.update(dets((box(100, 100), 0.9)), 4 / FPS).tracker_id.tolist() == [2]
    assert tr.active_ids == [2]  # the first frame of a shot confirms its tracks, as the video's first does


def test_variable_frame_rate_moves_by_elapsed_time():
    tr = tracker()
    times = np.cumsum([0, 0.02, 0.05, 0.03, 0.1, 0.01, 0.06, 0.04, 0.08, 0.02])
    for t in times:  # 120 px/s whatever the frame spacing
        tr.update(dets((box(100 + 120 * t, 100), 0.9)), float(t))
    pred = tr.predict(float(times[-1] + 0.2))
    assert (pred.xyxy[0, 0] + pred.xyxy[0, 2]) / 2 == pytest.approx(100 + 120 * (times[-1] + 0.2), abs=4)


# -- the real clip ------------------------------------------------------------------------------
def _rows(result, lo: int, hi: int):
    for f in result.frames:
        if lo <= f.index < hi:
            for i in range(len(f.detections)):
                yield f.index, int(f.detections.tracker_id[i]), f.detections.xyxy[i]


@pytest.mark.parametrize("setting", ["every1", "every3"])
def test_real_clip_one_id_per_face_within_shots(setting, request):
    result = request.getfixturevalue(setting)
    assert [f.index for f in result.frames if f.cut] == [20, 82, 211]
    # Lin-Manuel Miranda's close-up (frames 82-210) is one track from the cut to the next
    close = list(_rows(result, 82, 211))
    assert len({tid for _, tid, _ in close}) == 1 and len(close) >= 120
    # the Obama shot: six faces, one track each, and no track jumps from one face to another
    obama = list(_rows(result, 211, 275))
    tracks: dict[int, list[np.ndarray]] = {}
    for _, tid, b in obama:
        tracks.setdefault(tid, []).append(b)
    assert len(tracks) <= 6
    for boxes in tracks.values():
        centres = np.array([(b[:2] + b[2:]) / 2 for b in boxes])
        width = np.median([b[2] - b[0] for b in boxes])
        assert np.abs(np.diff(centres, axis=0)).max() < 0.5 * width
