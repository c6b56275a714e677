"""``face/setuserid`` changes the one user_id of a face: HTTP search, the library's search by subject
(what video identification runs on) and face/getdetail all show the new name at once."""

from __future__ import annotations

from faceprint.gallery import GalleryConfig, GalleryService, SearchOptions

from .support import Key, Server


def post(server: Server, key: Key, path: str, files: dict | None = None, **data: object) -> dict:
    with server.client() as c:
        r = c.post(path, data={**key.auth, **{k: str(v) for k, v in data.items()}}, files=files)
    assert r.status_code == 200, r.text
    return r.json()


def upload(path) -> dict:
    return {"image_file": (path.name, path.read_bytes(), "image/jpeg")}


def test_setuserid_renames_the_subject_everywhere(server, key, photos, engine):
    tok = post(server, key, "/facepp/v3/detect", upload(photos / "obama.jpg"))["faces"][0]["face_token"]
    fst = post(server, key, "/facepp/v3/faceset/create", outer_id="rename")["faceset_token"]
    post(server, key, "/facepp/v3/face/setuserid", face_token=tok, user_id="before")
    post(server, key, "/facepp/v3/faceset/addface", faceset_token=fst, face_tokens=tok)
    post(server, key, "/facepp/v3/face/setuserid", face_token=tok, user_id="barack")

    hits = post(server, key, "/facepp/v3/search", upload(photos / "obama2.jpg"), faceset_token=fst)["results"]
    assert [(h["face_token"], h["user_id"]) for h in hits] == [(tok, "barack")]
    detail = post(server, key, "/facepp/v3/face/getdetail", face_token=tok)
    assert detail["user_id"] == "barack" and [f["faceset_token"] for f in detail["facesets"]] == [fst]
    assert post(server, key, "/facepp/v3/faceset/getdetail", faceset_token=fst)["face_tokens"] == [tok]

    with GalleryService(GalleryConfig(data_dir=server.data), engine=engine) as svc:  # the same store, as the library sees it
        result = svc.search(fst, photos / "obama3.jpg", SearchOptions(top_k=3, by="subject"), tenant=key.tenant)
        assert result.best is not None and result.best.subject == "barack" and result.best.face_token == tok
        assert [r.subject for r in svc.faces(fst, tenant=key.tenant).items] == ["barack"]
