"""CLI errors as a newcomer meets them: each names its file, no Python class names, a batch goes on."""

import json

import cv2
import numpy as np

from test_cli import run


def blank_photo(tmp_path):
    path = tmp_path / "blank.jpg"  # a real JPEG with no face in it
    cv2.imwrite(str(path), np.full((240, 320, 3), (200, 140, 90), np.uint8))
    return path


def test_a_file_error_names_the_file_and_no_class(tmp_path, photos):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a photo")
    r = run("compare", bad, photos / "obama.jpg")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"IMAGE_ERROR_UNSUPPORTED_FORMAT: {bad}: not a decodable image" in r.stderr
    assert "Error" not in r.stderr.replace("IMAGE_ERROR", "")  # no UnidentifiedImageError or any other class name


def test_compare_says_which_image_has_no_face(tmp_path, photos):
    blank = blank_photo(tmp_path)
    r = run("compare", photos / "obama.jpg", blank)
    assert r.returncode == 2 and f"NO_FACE_FOUND: {blank}: no face found" in r.stderr, r.stderr
    body = json.loads(run("compare", blank, photos / "obama.jpg", "--json").stdout)
    assert body["error_code"] == "NO_FACE_FOUND" and body["error_message"].startswith(str(blank))


def test_a_missing_file_has_its_own_code(tmp_path, photos):
    gone = tmp_path / "gone.jpg"
    r = run("compare", photos / "obama.jpg", gone, "--json")
    body = json.loads(r.stdout)
    assert r.returncode == 2 and body["error_code"] == "IMAGE_ERROR_FILE_NOT_FOUND" and str(gone) in body["error_message"]


def test_detect_reports_each_file_and_goes_on(tmp_path, photos):
    bad = tmp_path / "bad.txt"
    bad.write_text("not a photo")
    gone = tmp_path / "gone.jpg"
    r = run("detect", bad, photos / "obama.jpg", gone, photos / "biden.jpg")
    assert r.returncode == 2  # something failed
    assert f"IMAGE_ERROR_UNSUPPORTED_FORMAT: {bad}" in r.stderr and f"IMAGE_ERROR_FILE_NOT_FOUND: {gone}" in r.stderr
    assert "obama.jpg: 1 face(s)" in r.stdout and "biden.jpg: 1 face(s)" in r.stdout
    rows = json.loads(run("detect", bad, photos / "obama.jpg", "--json").stdout)
    assert [(row["image"], row.get("error_code")) for row in rows] == [(str(photos / "obama.jpg"), None), (str(bad), "IMAGE_ERROR_UNSUPPORTED_FORMAT")]
    assert len(rows[0]["faces"]) == 1


def test_max_side_downscales_an_oversize_photo_and_says_so(tmp_path, photos):
    big = tmp_path / "camera.jpg"  # a real photo at a 24 MP camera's 6000 px
    img = cv2.imread(str(photos / "obama.jpg"))
    cv2.imwrite(str(big), cv2.resize(img, (4800, 6000), interpolation=cv2.INTER_CUBIC), [cv2.IMWRITE_JPEG_QUALITY, 80])
    refused = run("detect", big, "--json")
    body = json.loads(refused.stdout)[0]
    assert refused.returncode == 2 and body["error_code"] == "INVALID_IMAGE_SIZE" and "--max-side 4096" in body["error_message"]
    r = run("detect", big, "--max-side", "2000", "--json")
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)
    assert (row["width"], row["height"]) == (1600, 2000) and len(row["faces"]) == 1
    assert f"{big}: downscaled from 4800x6000 to 1600x2000 (--max-side 2000)" in r.stderr
    same = run("compare", big, photos / "obama2.jpg", "--max-side", "4096", "--json")
    assert same.returncode == 0 and json.loads(same.stdout)["is_match"], same.stdout + same.stderr
    assert run("detect", big, "--max-side", "5000").returncode == 2  # above the engine's 4096 it cannot help
