"""Enrolment and erasure edges on the real CLI: say why nothing happened, hint the real flag, ask before deleting."""

import json
import os
import shutil
import subprocess

import pytest

from test_cli import BIN, run


@pytest.fixture
def data(tmp_path, shared):
    d = tmp_path / "data"
    assert run("gallery", "create", "G", "--data", d).returncode == 0
    return d


def test_a_flat_folder_explains_the_layout(tmp_path, data, photos):
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("obama.jpg", "biden.jpg"):
        shutil.copy(photos / name, flat / name)
    r = run("enroll", "G", flat, "--data", data)
    assert r.returncode == 2 and "enrolled 0" not in r.stdout
    assert f"{flat} holds 2 photo(s) but no sub-folders" in r.stderr and f"{flat}/<subject>/*.jpg" in r.stderr
    assert "--subject NAME" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("enroll", "G", empty, "--data", data)
    assert r.returncode == 2 and f"{empty} holds no photos" in r.stderr


def test_multiple_faces_hint_names_the_flag(data, shared):
    r = run("enroll", "G", shared / "gallery" / "test" / "obama_and_biden.jpg", "--subject", "x", "--data", data)
    assert r.returncode == 1 and "MULTIPLE_FACES" in r.stdout
    assert "--face 0" in r.stdout and "face=0" not in r.stdout


def test_remove_an_unknown_token_says_so_and_fails(data, shared):
    r = run("enroll", "G", shared / "gallery" / "train" / "biden", "--subject", "biden", "--data", data)
    assert r.returncode == 2  # a folder of one subject is not a DIR/<subject>/ tree
    photo = next((shared / "gallery" / "train" / "biden").iterdir())
    assert run("enroll", "G", photo, "--subject", "biden", "--data", data).returncode == 0
    token = json.loads(run("gallery", "show", "G", "--json", "--data", data).stdout)["faces"][0]["face_token"]
    r = run("remove", "G", "--face", "deadbeef", "--face", token, "--data", data)
    assert r.returncode == 2 and "INVALID_FACE_TOKEN" in r.stderr and "deadbeef" in r.stderr and "removed 1 face(s)" in r.stdout
    r = run("remove", "G", "--face", "deadbeef", "--json", "--data", data)
    assert r.returncode == 2 and json.loads(r.stdout) == {"removed": 0, "unknown": ["deadbeef"]}


def _on_a_terminal(args, answer):
    """Run the CLI with a pseudo-terminal as stdin (what a person at a shell has) and type ``answer``."""
    main, side = os.openpty()
    try:
        proc = subprocess.Popen([*BIN, *map(str, args)], stdin=side, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.write(main, answer.encode())
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(main)
        os.close(side)
    return proc.returncode, out, err


def test_gallery_delete_asks_first(data):
    r = run("gallery", "delete", "G", "--data", data)  # no terminal, no --yes: refused
    assert r.returncode == 2 and "--yes" in r.stderr
    code, out, err = _on_a_terminal(("gallery", "delete", "G", "--data", data), "n\n")
    assert code == 1 and "Delete gallery G" in err and "cancelled" in err
    assert "G" in run("gallery", "list", "--data", data).stdout
    code, out, err = _on_a_terminal(("gallery", "delete", "G", "--data", data), "y\n")
    assert code == 0 and "deleted G" in out, out + err
    assert run("gallery", "create", "H", "--data", data).returncode == 0
    r = run("gallery", "delete", "H", "--yes", "--json", "--data", data)
    assert r.returncode == 0 and json.loads(r.stdout) == {"deleted": "H", "faces_erased": 0}


def test_enroll_with_workers_gives_the_one_process_result(tmp_path, shared):
    folder = tmp_path / "people"
    lfw = shared / "lfw" / "images"
    for person in sorted(lfw.iterdir())[:6]:
        (folder / person.name).mkdir(parents=True)
        for img in sorted(person.glob("*.jpg"))[:2]:
            (folder / person.name / img.name).symlink_to(img)
    (folder / "nobody").mkdir()
    (folder / "nobody" / "junk.jpg").write_bytes(b"not a photo")
    d = tmp_path / "data"
    reports = {}
    for n in ("1", "2"):
        assert run("gallery", "create", f"W{n}", "--data", d).returncode == 0
        r = run("enroll", f"W{n}", folder, "--workers", n, "--face", "0", "--data", d, "--json")
        reports[n] = json.loads(r.stdout)
        assert r.returncode == 0, r.stderr
    assert reports["1"]["enrolled"] == reports["2"]["enrolled"] >= 6
    assert reports["1"]["rejected"] == reports["2"]["rejected"] and reports["2"]["rejected"][0]["code"] == "IMAGE_ERROR_UNSUPPORTED_FORMAT"
    shown = {n: json.loads(run("gallery", "show", f"W{n}", "--data", d, "--json").stdout)["faces"] for n in ("1", "2")}
    assert [(f["user_id"], f["quality"]) for f in shown["1"]] == [(f["user_id"], f["quality"]) for f in shown["2"]]
