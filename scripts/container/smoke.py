"""HTTP checks of running containers, for scripts/container-test.sh: real photos, expected answers.

    smoke.py single URL KEY_JSON          detect and compare against one container
    smoke.py multinode URL_A URL_B KEY_JSON  enrol through A, find the face through B

KEY_JSON is what ``faceprint keys create --json`` printed. Exits non-zero with a reason on failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx

PHOTOS = Path(__file__).resolve().parents[2] / ".test-assets"


def call(url: str, key: dict[str, str], path: str, photos: dict[str, str], **data: str) -> dict[str, Any]:
    files = {field: (name, (PHOTOS / name).read_bytes(), "image/jpeg") for field, name in photos.items()}
    auth = {"api_key": key["api_key"], "api_secret": key["api_secret"]}
    r = httpx.post(url + path, data={**auth, **data}, files=files, timeout=120)
    if r.status_code != 200:
        sys.exit(f"{path} on {url}: HTTP {r.status_code}: {r.text[:500]}")
    return dict(r.json())


def check(ok: bool, what: str) -> None:
    if not ok:
        sys.exit(f"container check failed: {what}")
    print(f"  ok: {what}")


def single(url: str, key: dict[str, str]) -> None:
    check(httpx.get(url + "/ready", timeout=10).status_code == 200, "/ready answers 200")
    faces = call(url, key, "/facepp/v3/detect", {"image_file": "obama.jpg"})["faces"]
    check(len(faces) == 1 and faces[0]["face_rectangle"]["width"] > 50, "detect finds the one face in obama.jpg")
    same = call(url, key, "/facepp/v3/compare", {"image_file1": "obama.jpg", "image_file2": "obama2.jpg"})
    check(same["confidence"] > same["thresholds"]["1e-5"], f"obama.jpg vs obama2.jpg: {same['confidence']:.1f} > FAR 1e-5 threshold")
    other = call(url, key, "/facepp/v3/compare", {"image_file1": "obama.jpg", "image_file2": "biden.jpg"})
    check(other["confidence"] < other["thresholds"]["1e-3"], f"obama.jpg vs biden.jpg: {other['confidence']:.1f} < FAR 1e-3 threshold")
    docs = httpx.get(url + "/docs", timeout=10).text
    check("swagger-ui-bundle.js" in docs and "cdn." not in docs, "/docs is served without a CDN")


def multinode(a: str, b: str, key: dict[str, str]) -> None:
    call(a, key, "/facepp/v3/faceset/create", {}, outer_id="staff")
    obama = call(a, key, "/facepp/v3/detect", {"image_file": "obama.jpg"})["faces"][0]["face_token"]
    biden = call(a, key, "/facepp/v3/detect", {"image_file": "biden.jpg"})["faces"][0]["face_token"]
    added = call(a, key, "/facepp/v3/faceset/addface", {}, outer_id="staff", face_tokens=f"{obama},{biden}")
    check(added["face_added"] == 2, "node A enrols obama.jpg and biden.jpg")
    found = call(b, key, "/facepp/v3/search", {"image_file": "obama2.jpg"}, outer_id="staff", return_result_count="2")
    hits = found["results"]
    check([h["face_token"] for h in hits] == [obama, biden], "node B finds obama2.jpg as the face node A enrolled, first")
    check(hits[0]["confidence"] > found["thresholds"]["1e-5"] > hits[1]["confidence"], "and only that face clears FAR 1e-5")


def main(argv: list[str]) -> None:
    if argv[:1] == ["single"] and len(argv) == 3:
        single(argv[1], json.loads(argv[2]))
    elif argv[:1] == ["multinode"] and len(argv) == 4:
        multinode(argv[1], argv[2], json.loads(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
