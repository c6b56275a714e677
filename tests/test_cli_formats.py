"""What the CLI prints: numbers rounded for people, tokens whole (copyable) in tables at 80 columns."""

import json
import re

from test_cli import run

NARROW = {"COLUMNS": "80"}


def test_detect_json_rounds_points_to_two_decimals(vectron):
    r = run("detect", vectron / "players.jpg", "--json", "--landmarks")
    assert r.returncode == 0, r.stderr
    faces = json.loads(r.stdout)[0]["faces"]
    numbers = re.findall(r"-?\d+\.\d+", r.stdout)
    assert numbers and max(len(n.split(".")[1]) for n in numbers) <= 4  # no 579.1500244140625
    for f in faces:
        for x, y in f["kps"] + f["landmarks"]:
            assert round(x, 2) == x and round(y, 2) == y


def test_tables_keep_tokens_whole_at_80_columns(tmp_path, shared):
    data = tmp_path / "data"
    assert run("gallery", "create", "a-gallery-with-a-rather-long-name", "--tag", "demo", "--data", data).returncode == 0
    assert run("enroll", "a-gallery-with-a-rather-long-name", shared / "gallery" / "train", "--data", data).returncode == 0
    listing = json.loads(run("gallery", "show", "a-gallery-with-a-rather-long-name", "--json", "--data", data).stdout)
    tokens = [f["face_token"] for f in listing["faces"]]
    shown = run("gallery", "show", "a-gallery-with-a-rather-long-name", "--data", data, env=NARROW).stdout
    assert tokens and all(t in shown for t in tokens), shown
    assert max(len(line) for line in shown.splitlines()) <= 80
    galleries = run("gallery", "list", "--data", data, env=NARROW).stdout
    assert listing["faceset_token"] in galleries, galleries
    hits = run("search", "a-gallery-with-a-rather-long-name", shared / "gallery" / "test" / "obama1.jpg", "--top", "9", "--data", data,
               env=NARROW).stdout  # fmt: skip
    found = json.loads(run("search", "a-gallery-with-a-rather-long-name", shared / "gallery" / "test" / "obama1.jpg", "--top", "9",
                           "--json", "--data", data).stdout)  # fmt: skip
    assert all(m["face_token"] in hits for m in found["results"]), hits
    key = json.loads(run("keys", "create", "--name", "a-name-long-enough-to-squeeze", "--scopes", "detect,compare,faceset:read",
                         "--data", data, "--json").stdout)  # fmt: skip
    keys = run("keys", "list", "--data", data, env=NARROW).stdout
    assert key["api_key"] in keys, keys
