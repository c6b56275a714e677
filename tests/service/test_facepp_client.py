"""python-facepp (a Face++ client someone else wrote for the real Face++), pointed at our URL, unchanged.

Its ``FacePP(..., url=...)`` argument is its documented way to choose the server; nothing of the
package is patched. It drives detect, compare, faceset create, addface (its ``Face.save(outer_ids=...)``
calls face/getdetail, faceset/removeface and faceset/addface) and search.
"""

from __future__ import annotations

import warnings

import pytest

from .support import Server, make_key

warnings.filterwarnings("ignore", category=DeprecationWarning)
facepplib = pytest.importorskip("facepplib")


@pytest.fixture(scope="module")
def client(server: Server):
    key = make_key(server.data, "detect,compare,faceset:read,faceset:write")
    return facepplib.FacePP(api_key=key.api_key, api_secret=key.api_secret, url=server.url)


def test_detect_compare_faceset_addface_search(client, photos):
    image = client.image.get(image_file=str(photos / "obama.jpg"), return_attributes=["smiling", "headpose"])
    assert len(image.faces) == 1
    face = image.faces[0]
    assert len(face.face_token) == 32 and set(face.face_rectangle) == {"top", "left", "width", "height"}
    assert face.smile["value"] > face.smile["threshold"]  # as its own demo reads it (Face++ answers smiling under smile)

    same = client.compare.get(image_file1=str(photos / "obama.jpg"), image_file2=str(photos / "obama2.jpg"))
    other = client.compare.get(image_file1=str(photos / "obama.jpg"), image_file2=str(photos / "biden.jpg"))
    assert same.confidence > same.thresholds["1e-4"] > other.confidence

    faceset = client.face_set.create(outer_id="facepplib", display_name="Python-FacePP")
    assert faceset.outer_id == "facepplib" and len(faceset.faceset_token) == 32
    for name, photo in (("obama", "obama.jpg"), ("biden", "biden.jpg")):
        for f in client.face.all(image_file=str(photos / photo)):
            f.save(outer_ids=["facepplib"], user_id=name)  # setuserid + addface, as its own demo does
    assert client.face_set.get(outer_id="facepplib").face_count == 2

    found = client.search.get(image_file=str(photos / "obama2.jpg"), outer_id="facepplib")
    assert found.results[0].user_id == "obama" and found.results[0].confidence > found.thresholds["1e-5"]


def test_errors_reach_the_client_as_its_own_exceptions(client):
    with pytest.raises(facepplib.exceptions.InvalidFacesetToken):
        client.face_set.get(faceset_token="0" * 32)
    with pytest.raises(facepplib.exceptions.AuthenticationError):
        facepplib.FacePP(api_key="fpk_nobody", api_secret="x", url=client.url).face_set.get(faceset_token="0" * 32)
