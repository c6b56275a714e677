"""The annotated video's "#N" is the track id: the same number the CLI table's "tracks" column and the CSV list."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from faceprint.cli.main import app
from faceprint.video import AnalysisConfig, VideoOptions, process_video


def test_overlay_number_is_the_track_id_the_table_lists(tmp_path, hamilton, vengine):
    options = VideoOptions(analysis=AnalysisConfig(detect_every=5, min_face=60))
    result = process_video(hamilton, None, options, engine=vengine)
    seen = 0
    for frame in result.frames:
        for tid in frame.detections.tracker_id:
            label = result.overlay_label(int(tid))
            if label is None:
                continue
            number, name = re.fullmatch(r"#(\d+) (\S+)(?: \d+)?", label).groups()  # type: ignore[union-attr]
            subject = result.subject(name)
            assert subject is not None and int(number) == int(tid) and int(tid) in subject.track_ids
            seen += 1
    assert seen > 50
    # the CLI table prints the same ids in its "tracks" column
    r = CliRunner().invoke(app, ["video", str(hamilton), "--detect-every", "5", "--min-face", "60"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    for s in result.subjects:
        assert re.search(rf"{re.escape(s.label)}\s.*\s{' '.join(map(str, s.track_ids))}\s", r.output), (s.label, r.output)
