"""``faceprint video`` end to end, in-process: files written, and bad input as a code, never a traceback."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from faceprint.cli.main import app


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_video_command(tmp_path, hamilton, gallery, gallery_dir):
    out, js, cs = tmp_path / "annotated.webm", tmp_path / "t.json", tmp_path / "t.csv"
    r = run("video", hamilton, "--gallery", "video", "--data", gallery_dir, "--detect-every", "3",
            "--out", out, "--json", js, "--csv", cs, "--per-frame")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Lin-Manuel Miranda" in r.output and "Barack Obama" in r.output and "real time" in r.output
    body = json.loads(js.read_text())
    assert {s["label"] for s in body["subjects"] if s["known"]} == {"Lin-Manuel Miranda", "Alex Lacamoire", "Barack Obama"}
    assert len(body["frames"]) == 275 and out.stat().st_size > 10_000
    assert cs.read_text().startswith("label,known,start_s,end_s,confidence,track_ids,thumbnail")
    assert any(tmp_path.joinpath("t.thumbs").iterdir())


def test_without_a_gallery_everyone_is_unknown(tmp_path, hamilton):
    js = tmp_path / "t.json"
    r = run("video", hamilton, "--detect-every", "5", "--min-face", "60", "--json", js, "--quiet")
    assert r.exit_code == 0 and r.output == ""
    body = json.loads(js.read_text())
    assert body["subjects"] and all(not s["known"] for s in body["subjects"])
    assert body["settings"]["min_face"] == 60


def test_bad_input_exits_with_a_code(tmp_path, gallery_dir):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    empty = tmp_path / "empty.webm"
    empty.write_bytes(b"")
    for path, code in ((text, "VIDEO_ERROR_UNSUPPORTED_FORMAT"), (empty, "VIDEO_ERROR_EMPTY_FILE")):
        r = run("video", path, "--quiet")
        assert r.exit_code == 2 and code in r.output and "Traceback" not in r.output
    r = run("video", text, "--gallery", "nobody", "--data", gallery_dir)
    assert r.exit_code == 2 and "INVALID_FACESET_TOKEN" in r.output
    r = run("video", text, "--far", "1e-9")
    assert r.exit_code == 2 and "BAD_ARGUMENTS" in r.output

def test_unwritable_output_fails_before_any_work(tmp_path, hamilton):
    r = run("video", hamilton, "--out", tmp_path / "x.gifv")
    assert r.exit_code == 2 and "VIDEO_ERROR_UNSUPPORTED_FORMAT" in r.output and "analysing" not in r.output


def test_several_files_at_once_each_in_its_own_worker(tmp_path, hamilton, gallery, gallery_dir):
    second = tmp_path / "second.mp4"
    second.symlink_to(hamilton)
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    single = tmp_path / "single.json"
    assert run("video", hamilton, "--gallery", "video", "--data", gallery_dir, "--detect-every", "3", "--json", single, "--quiet").exit_code == 0
    outdir = tmp_path / "timelines"
    r = run("video", hamilton, broken, second, "--jobs", "2", "--gallery", "video", "--data", gallery_dir, "--detect-every", "3",
            "--json", outdir)  # fmt: skip
    assert r.exit_code == 1 and "VIDEO_ERROR_UNSUPPORTED_FORMAT" in r.output and "broken.mp4" in r.output and "Traceback" not in r.output
    assert r.output.count("Lin-Manuel Miranda") == 2  # a table for each good file
    want = json.loads(single.read_text())["subjects"]
    for name in (hamilton.stem, "second"):
        got = json.loads((outdir / f"{name}.json").read_text())["subjects"]
        assert [(s["label"], s["segments"]) for s in got] == [(s["label"], s["segments"]) for s in want]
    assert not (outdir / "broken.json").exists()
