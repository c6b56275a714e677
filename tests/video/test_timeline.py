"""Timeline: segments per subject, and the JSON and CSV a user gets."""

from __future__ import annotations

import base64
import json
from itertools import pairwise

import cv2
import numpy as np

from faceprint.video.identify import identify
from faceprint.video.timeline import CSV_COLUMNS, build_timeline, read_csv


def test_segments_are_ordered_disjoint_and_carry_their_tracks(every3):
    gap = every3.options.segment_gap_s
    for sub in every3.subjects:
        segs = sub.segments
        assert all(s.end_s > s.start_s for s in segs)
        assert all(b.start_s - a.end_s > gap for a, b in pairwise(segs))
        assert sorted(t for s in segs for t in s.track_ids) == sorted(sub.track_ids)
        assert sub.confidence == max(s.confidence for s in segs)
    firsts = [s.segments[0].start_s for s in every3.subjects]
    assert firsts == sorted(firsts)


def test_gap_joins_segments(analysed, vengine, gallery):
    tracks = analysed.tracklets.tracklets
    ident = identify(vengine, list(tracks.values()), gallery, analysed.cuts)
    apart = {s.label: len(s.segments) for s in build_timeline(tracks, ident, 1 / 29.97, gap_s=0.5)}
    joined = {s.label: len(s.segments) for s in build_timeline(tracks, ident, 1 / 29.97, gap_s=10.0)}
    assert apart["Lin-Manuel Miranda"] == 2 and joined["Lin-Manuel Miranda"] == 1
    assert set(joined.values()) == {1}


def test_json(tmp_path, every3):
    path = tmp_path / "timeline.json"
    every3.write_json(path, per_frame=True)
    body = json.loads(path.read_text())
    assert body["video"]["frame_count"] == 275 and body["settings"]["detect_every"] == 3
    assert body["stats"]["faces_embedded"] == every3.stats.faces_embedded
    labels = [s["label"] for s in body["subjects"]]
    assert labels == [s.label for s in every3.subjects]
    lin = body["subjects"][labels.index("Lin-Manuel Miranda")]
    assert lin["known"] and [round(s["start_s"], 1) for s in lin["segments"]] == [0.0, 2.7]
    face = cv2.imdecode(np.frombuffer(base64.b64decode(lin["thumbnail_jpeg_base64"]), np.uint8), cv2.IMREAD_COLOR)
    assert face is not None and min(face.shape[:2]) >= 40
    assert len(body["frames"]) == 275
    f100 = body["frames"][100]
    assert [row["label"] for row in f100["faces"]] == ["Lin-Manuel Miranda"]
    assert set(f100["faces"][0]) >= {"bbox", "score", "track_id", "person_id", "detected"}
    assert "frames" not in every3.to_dict()


def test_csv(tmp_path, every3):
    path, thumbs = tmp_path / "timeline.csv", tmp_path / "thumbs"
    every3.write_csv(path, thumbs)
    rows = read_csv(path)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == sum(len(s.segments) for s in every3.subjects)
    obama = [r for r in rows if r["label"] == "Barack Obama"]
    assert len(obama) == 1 and obama[0]["known"] == "1" and float(obama[0]["start_s"]) >= 6.95
    for r in rows:
        assert cv2.imread(r["thumbnail"]) is not None
    every3.write_csv(tmp_path / "bare.csv")
    assert {r["thumbnail"] for r in read_csv(tmp_path / "bare.csv")} == {""}
