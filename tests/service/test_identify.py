"""POST /v1/identify over real HTTP: every face of a photo named in one call; Face++ /search and
/compare keep their one-face meaning, and ``face_rectangle`` names the face to use."""

from __future__ import annotations

import json

import pytest

from .support import Key, Server, cli, make_key


@pytest.fixture(scope="module")
def staff(server: Server, key: Key, shared) -> str:
    """shared/data/gallery/train enrolled (one subject per folder) for this module's tenant."""
    cli("gallery", "create", "staff", "--data", str(server.data), "--tenant", key.tenant)
    out = cli("enroll", "staff", str(shared / "gallery" / "train"), "--data", str(server.data), "--tenant", key.tenant, "--json")
    assert json.loads(out.stdout)["enrolled"] == 9
    return "staff"


def identify(server: Server, key: Key, path, **form: object):
    with server.client() as c:
        files = {"image_file": (path.name, path.read_bytes(), "image/jpeg")}
        return c.post("/v1/identify", data={**key.auth, **{k: str(v) for k, v in form.items()}}, files=files)


@pytest.mark.parametrize(
    ("photo", "names"),
    [("kit_with_rose.jpg", {"kit_harington", "rose_leslie"}), ("obama_and_biden.jpg", {"obama", "biden"})],
)
def test_every_face_of_a_two_person_photo_is_named(server, key, staff, shared, photo, names):
    r = identify(server, key, shared / "gallery" / "test" / photo, outer_id=staff, return_result_count=3)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["face_num"] == len(body["faces"]) >= 2 and set(body["thresholds"]) == {"1e-3", "1e-4", "1e-5"}
    named = [f["user_id"] for f in body["faces"] if f["user_id"] != "unknown"]
    assert sorted(named) == sorted(names)  # each once; any other face (a bystander) is "unknown"
    for f in body["faces"]:
        assert len(f["face_token"]) == 32 and set(f["face_rectangle"]) == {"top", "left", "width", "height"}
        assert 1 <= len(f["results"]) <= 3 and len({h["user_id"] for h in f["results"]}) == len(f["results"])  # subjects
    # Face++ search keeps its meaning: one face of the photo, its results
    with server.client() as c:
        s = c.post("/facepp/v3/search", data={**key.auth, "outer_id": staff},
                   files={"image_file": (photo, (shared / "gallery" / "test" / photo).read_bytes())}).json()  # fmt: skip
    assert s["results"][0]["user_id"] in names and "face_num" not in s


def test_identify_needs_the_read_scope_and_is_audited(server, staff, shared):
    k = make_key(server.data, "detect")
    r = identify(server, k, shared / "gallery" / "test" / "obama1.jpg", outer_id=staff)
    assert r.status_code == 403 and r.json()["error_message"].startswith("AUTHORIZATION_ERROR")
    entries = [json.loads(x) for x in (server.data / "audit.log").read_text().splitlines()]
    assert any(e["endpoint"] == "identify" and e["outcome"] == "AUTHORIZATION_ERROR" for e in entries)


def test_identify_errors(server, key, staff, shared, photos):
    r = identify(server, key, photos / "obama.jpg", outer_id="nope")
    assert r.status_code == 400 and r.json()["error_message"].startswith("INVALID_OUTER_ID")
    r = identify(server, key, photos / "obama.jpg", outer_id=staff, far="0.5")
    assert r.status_code == 400 and r.json()["error_message"].startswith("BAD_ARGUMENTS")


def test_compare_face_rectangle_is_the_face(server, key, vectron):
    """Face++ semantics: face_rectangle2 around Yao Ming (face #3 of players.jpg) compares him."""
    files = {"image_file1": ("y.jpg", (vectron / "yaoming.jpg").read_bytes()),
             "image_file2": ("p.jpg", (vectron / "players.jpg").read_bytes())}  # fmt: skip
    with server.client() as c:
        plain = c.post("/facepp/v3/compare", data=key.auth, files=files).json()
        boxed = c.post("/facepp/v3/compare", data={**key.auth, "face_rectangle2": "142,720,44,50"}, files=files).json()
    assert plain["confidence"] < plain["thresholds"]["1e-3"]
    assert boxed["confidence"] > boxed["thresholds"]["1e-5"]
    assert boxed["faces2"][0]["face_rectangle"] == {"top": 142, "left": 720, "width": 44, "height": 50}
