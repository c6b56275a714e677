"""The whole pipeline on the real clip against a real gallery (3 stills + 1,000 LFW distractors).

What ``short_hamilton_clip.mp4`` shows, as measured before the video issue was written:
0-0.6 s wide shot (Lin-Manuel Miranda ~40 px, Alex Lacamoire at the piano ~24 px); 0.7-1.5 s
Alex Lacamoire in profile; 1.7-2.7 s audience (not enrolled); 2.8-7.0 s Lin-Manuel Miranda
close up; 7.2 s to the end Barack Obama in the audience, beside Michelle Obama (not enrolled).
"""

from __future__ import annotations

import numpy as np
import pytest

from faceprint.errors import FaceprintError
from faceprint.video import VideoOptions, iter_frames, open_video, process_video
from faceprint.video.annotate import KNOWN, UNKNOWN

from .support import ENROLLED, clip_frames, write_audio_only, write_video


def spans(result, label: str) -> list[tuple[float, float]]:
    sub = result.subject(label)
    return [] if sub is None else [(s.start_s, s.end_s) for s in sub.segments]


def overlaps(seg: tuple[float, float], lo: float, hi: float) -> bool:
    return seg[0] < hi and seg[1] > lo


@pytest.mark.parametrize("setting", ["every1", "every3"])
def test_timeline_matches_what_the_clip_shows(setting, request):
    r = request.getfixturevalue(setting)
    known = {s.label for s in r.subjects if s.known}
    assert known == set(ENROLLED)  # and no LFW distractor anywhere
    assert all(s.label.startswith("unknown-") for s in r.subjects if not s.known)

    lin = spans(r, "Lin-Manuel Miranda")
    assert len(lin) == 2
    assert lin[0][0] <= 0.1 and 0.55 <= lin[0][1] <= 0.8  # wide shot, ~40 px face
    assert 2.6 <= lin[1][0] <= 2.95 and 6.9 <= lin[1][1] <= 7.15  # close up
    alex = spans(r, "Alex Lacamoire")
    assert alex[0][0] <= 0.1 and 0.55 <= alex[0][1] <= 0.8  # at the piano, ~24 px face
    assert all(s[1] <= 1.7 for s in alex)  # the profile close-up (0.7-1.5 s), if recognised at all
    obama = spans(r, "Barack Obama")
    assert len(obama) == 1 and 6.95 <= obama[0][0] <= 7.3 and obama[0][1] >= 9.1

    for label in known:  # the audience shot holds nobody enrolled
        assert not any(overlaps(s, 1.75, 2.65) for s in spans(r, label))
    unknown_in_audience = {s.label for s in r.subjects if not s.known and any(overlaps(g, 1.75, 2.65) for g in spans(r, s.label))}
    assert len(unknown_in_audience) >= 3
    unknown_with_obama = {s.label for s in r.subjects if not s.known and any(overlaps(g, 7.3, 9.0) for g in spans(r, s.label))}
    assert len(unknown_with_obama) >= 3

    # confidences on the calibrated scale: known above the FAR 1e-5 threshold, unknown below it
    for s in r.subjects:
        assert (s.confidence >= r.identification.threshold) == s.known or not s.known


@pytest.mark.parametrize("setting", ["every1", "every3"])
def test_michelle_obama_is_unknown(setting, request):
    r = request.getfixturevalue(setting)
    frame = next(f for f in r.frames if f.index >= 240 and f.detected)
    labels = [r.track_label(int(t)) for t in frame.detections.tracker_id]
    cx = (frame.detections.xyxy[:, 0] + frame.detections.xyxy[:, 2]) / 2
    obama = next(i for i, lab in enumerate(labels) if lab and lab[0] == "Barack Obama")
    right = [i for i in np.argsort(cx) if cx[i] > cx[obama]]
    michelle = labels[right[0]]  # the face immediately to his right
    assert michelle is not None and michelle[0].startswith("unknown-") and not michelle[1]


def test_detection_every_third_frame_embeds_few_faces(every1, every3):
    s1, s3 = every1.stats, every3.stats
    assert s1.frames == s3.frames == 275
    assert s1.frames_detected == 275 and s3.frames_detected <= 275 // 3 + 4  # + the cut frames
    naive = s1.faces_detected  # "embed every face in every frame"
    assert s3.faces_embedded * 5 <= naive and s1.faces_embedded * 5 <= naive
    assert s3.faces_embedded <= 3 * s3.tracks


def test_iter_frames_streams_tracked_faces(hamilton, vengine):
    detected, cuts = [], []
    for r in iter_frames(hamilton, vengine, VideoOptions.every(3)):
        assert r.image is not None and r.image.shape == (360, 640, 3)
        assert (r.detections.detected == r.detected).all()
        assert (r.detections.tracker_id > 0).all()
        detected += [r.index] if r.detected else []
        cuts += [r.index] if r.cut else []
        if r.index == 100:
            assert len(r.detections) == 1  # Lin-Manuel Miranda alone on stage
    assert r.index == 274 and cuts == [20, 82, 211]
    assert detected[0] == 0 and set(cuts) <= set(detected)  # a cut restarts the cadence
    assert max(np.diff(detected)) == 3 and len(detected) <= 275 // 3 + 4


def test_annotated_copy(annotated, every3, hamilton):
    with open_video(annotated) as out, open_video(hamilton) as src:
        drawn, plain = list(out), list(src)
    assert len(drawn) == len(plain) == 275
    assert [round(f.time_s, 3) for f in drawn] == [round(f.time_s, 3) for f in plain]

    def box_colour_share(index: int, label_start: str, colour: tuple[int, int, int]) -> tuple[float, float]:
        """Share of the box's left-edge pixels near ``colour``: in the annotated copy, and in the source."""
        frame = next(f for f in every3.frames if f.index >= index and f.detected)
        labels = [(every3.track_label(int(t)) or ("",))[0] for t in frame.detections.tracker_id]
        x1, y1, _, y2 = frame.detections.xyxy[next(k for k, lab in enumerate(labels) if lab.startswith(label_start))]
        x, ys = round(float(x1)), slice(int(y1) + 2, int(y2) - 2)
        near = [np.abs(img[ys, x].astype(int) - colour).max(axis=1) < 50 for img in (drawn[frame.index].image, plain[frame.index].image)]
        return float(near[0].mean()), float(near[1].mean())

    drawn_share, plain_share = box_colour_share(150, "Lin-Manuel", KNOWN)  # green on Lin-Manuel Miranda
    assert drawn_share > 0.8 and plain_share < 0.1
    drawn_share, plain_share = box_colour_share(240, "unknown-", UNKNOWN)  # orange on an unknown face
    assert drawn_share > 0.8 and plain_share < 0.1


def test_no_faces_gives_an_empty_timeline(tmp_path, hamilton, gallery, vengine):
    # the real clip's stage floor and piano (no face in that region) as a video of its own
    frames = [f[250:350, 250:550] for f in clip_frames(hamilton, 0, 20)]
    path = write_video(tmp_path / "floor.mp4", frames)
    r = process_video(path, gallery, VideoOptions.every(1), engine=vengine)
    assert r.subjects == () and r.identification.persons == () and r.stats.faces_embedded == 0
    assert r.stats.frames == 20 and r.to_dict()["subjects"] == []


def test_bad_input_is_a_code_before_any_work(tmp_path, hamilton, gallery, vengine):
    text = tmp_path / "notes.mp4"
    text.write_text("hello\n")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(hamilton.read_bytes()[:300_000])
    cases = {
        text: "VIDEO_ERROR_UNSUPPORTED_FORMAT",
        empty: "VIDEO_ERROR_EMPTY_FILE",
        cut: "VIDEO_ERROR_TRUNCATED",
        write_audio_only(tmp_path / "a.m4a"): "VIDEO_ERROR_NO_VIDEO_STREAM",
    }
    for path, code in cases.items():
        with pytest.raises(FaceprintError) as err:
            process_video(path, gallery, engine=vengine)
        assert err.value.code == code


def test_variable_frame_rate_times_reach_the_timeline(tmp_path, hamilton, gallery, vengine):
    frames = clip_frames(hamilton, 90, 150)  # Lin-Manuel Miranda close up
    times = [k / 30 for k in range(30)] + [1.0 + 0.1 * k for k in range(30)]  # then slow motion
    path = write_video(tmp_path / "vfr.mp4", frames, times=times)
    r = process_video(path, gallery, VideoOptions.every(3), engine=vengine)
    (seg,) = r.subject("Lin-Manuel Miranda").segments
    assert seg.start_s == 0.0 and seg.end_s >= 3.85  # 60 frames at 30 fps would end at 2.0 s


def test_rotated_phone_video_is_upright(tmp_path, hamilton, gallery, vengine):
    frames = [np.rot90(f, k=-1) for f in clip_frames(hamilton, 90, 120)]  # stored turned clockwise
    path = write_video(tmp_path / "phone.mp4", frames, rotation=90)  # player turns it back
    r = process_video(path, gallery, VideoOptions.every(3), engine=vengine)
    assert r.info.rotation == 90 and (r.info.width, r.info.height) == (640, 360)
    assert [s.label for s in r.subjects] == ["Lin-Manuel Miranda"]
