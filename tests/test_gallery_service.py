"""The library flows end to end on real photos: enrol train/, search test/, remove, delete."""

import contextlib
from pathlib import Path

import numpy as np
import pytest

from faceprint.errors import BadInput, InvalidFacesetToken, LowQuality, NoFaceFound, PackMismatch, TooManyFaces
from faceprint.gallery import EnrolOptions, FaceSetUpdate, NewFace, NewFaceSet, SearchOptions
from gallery_support import service, unit

SUBJECTS = {"alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie"}


@pytest.fixture
def svc(tmp_path, engine):
    with service(tmp_path / "data", engine=engine) as s:
        yield s


@pytest.fixture
def enrolled(svc, shared):
    svc.create("people", display_name="People", tags=["test"])
    report = svc.enrol_folder("people", shared / "gallery" / "train")
    return svc, report


def test_enrol_folder_reports_and_skips_duplicates(enrolled, shared):
    svc, report = enrolled
    assert len(report.enrolled) == 9 and not report.rejected and not report.duplicates
    assert {f.subject for f in report.enrolled} == SUBJECTS
    face = report.enrolled[0]
    assert len(face.token) == 32 and face.quality > 40 and len(face.image_sha256) == 64 and face.bbox[2] > face.bbox[0]
    again = svc.enrol_folder("people", shared / "gallery" / "train")
    assert not again.enrolled and len(again.duplicates) == 9
    assert svc.get("people").face_count == 9


def test_search_names_each_probe(enrolled, shared):
    svc, _ = enrolled
    test = shared / "gallery" / "test"
    expect = {"alex_lacamoire1.jpg": "alex_lacamoire", "johnsnow_test1.jpg": "kit_harington", "obama1.jpg": "obama"}
    for name, subject in expect.items():
        result = svc.search("people", test / name, SearchOptions(top_k=3, by="subject"))
        assert result.subject == subject and result.known
        assert len({m.subject for m in result.matches}) == 3  # one face per subject
        assert result.best.confidence >= result.thresholds["1e-4"] > result.matches[1].confidence
        assert result.thresholds == {"1e-3": 62.327, "1e-4": 69.101, "1e-5": 73.975}
    two = svc.search("people", test / "kit_with_rose.jpg", SearchOptions(by="subject", face=1))
    assert two.faces_found == 2 and two.subject == "rose_leslie"
    faces = svc.search("people", test / "obama1.jpg", SearchOptions(top_k=9, by="face"))
    assert [m.subject for m in faces.matches[:2]] == ["obama", "obama"] and len(faces.matches) == 9


def test_batch_search_matches_single_searches(enrolled, shared):
    svc, _ = enrolled
    probes = sorted((shared / "gallery" / "test").glob("*.jpg"))
    batch = svc.search_batch("people", probes, SearchOptions(top_k=2))
    singles = [svc.search("people", p, SearchOptions(top_k=2)) for p in probes]
    assert [r.subject for r in batch] == [r.subject for r in singles]
    for a, b in zip(batch, singles, strict=True):
        np.testing.assert_allclose([m.score for m in a.matches], [m.score for m in b.matches], atol=1e-5)


def test_unknown_after_the_subject_is_removed(enrolled, shared):
    svc, _ = enrolled
    probe = shared / "gallery" / "test" / "obama1.jpg"
    assert svc.remove_subject("people", "obama") == 2
    result = svc.search("people", probe, SearchOptions(by="subject"))
    assert not result.known and result.subject is None and result.to_dict()["decision"] == "unknown"
    assert "obama" not in {m.subject for m in result.matches}
    biden = svc.faces("people", subject="biden").items
    assert svc.remove_faces("people", [biden[0].token]) == 1
    assert svc.faces("people", subject="biden").total == 1 and svc.get("people").face_count == 6


def test_several_faces_need_a_choice_and_quality_is_gated(svc, shared):
    svc.create("g")
    group = shared / "gallery" / "test" / "obama_and_biden.jpg"
    report = svc.enrol("g", [group], "someone")
    assert [r.code for r in report.rejected] == ["MULTIPLE_FACES"]
    with pytest.raises(TooManyFaces):
        svc.enrol_one("g", group, "someone")
    rec = svc.enrol_one("g", group, "obama", EnrolOptions(face=0))
    assert svc.search("g", shared / "gallery" / "test" / "obama1.jpg").best.face_token == rec.token
    low = shared / "gallery" / "train" / "kit_harington" / "john2.jpeg"  # quality ~73
    with pytest.raises(LowQuality):
        svc.enrol_one("g", low, "kit", EnrolOptions(min_quality=95))
    assert [r.code for r in svc.enrol("g", [low], "kit", EnrolOptions(min_quality=95)).rejected] == ["LOW_QUALITY"]
    blank = np.full((200, 200, 3), 127, np.uint8)
    with pytest.raises(NoFaceFound):
        svc.enrol_one("g", blank, "nobody")


def test_several_galleries_thumbnails_and_paging(svc, shared):
    train = shared / "gallery" / "train"
    a, b = svc.create("a"), svc.create("b")
    svc.enrol("a", sorted((train / "obama").glob("*")), "obama", EnrolOptions(keep_thumbnail=True))
    svc.enrol("b", sorted((train / "biden").glob("*")), "biden")
    result = svc.search(["a", b.token], shared / "gallery" / "test" / "obama_and_biden.jpg", SearchOptions(top_k=4))
    assert {m.faceset_token for m in result.matches} == {a.token, b.token} and result.subject == "obama"
    page = svc.faces("a", start=0, limit=1)
    assert page.total == 2 and page.next_start == 1 and svc.faces("a", start=1, limit=1).next_start is None
    thumb = svc.store.get_thumbnail("default", page.items[0].token)
    assert thumb[:2] == b"\xff\xd8" and svc.store.get_thumbnail("default", svc.faces("b").items[0].token) is None
    handle = svc.gallery("b")
    assert handle.search(shared / "gallery" / "test" / "obama_and_biden.jpg", SearchOptions(face=1)).subject == "biden"
    assert handle.faces().total == 2 and handle.info.outer_id == "b"
    assert svc.update("a", FaceSetUpdate(outer_id="a2", user_data="{}")).outer_id == "a2"
    assert [fs.outer_id for fs in svc.galleries().items] == ["a2", "b"]
    assert svc.delete("a2") == 2
    with pytest.raises(InvalidFacesetToken):
        svc.get("a2")
    assert [fs.outer_id for fs in svc.galleries().items] == ["b"]


def test_packs_do_not_mix_and_tenants_do_not_meet(svc, shared):
    other = svc.create_for(NewFaceSet(pack="sface", dim=128, outer_id="other"))
    svc.create("mine")
    with pytest.raises(PackMismatch):
        svc.enrol_one("other", shared / "gallery" / "test" / "obama1.jpg", "obama")
    with pytest.raises(PackMismatch):
        svc.search(["mine", other.token], shared / "gallery" / "test" / "obama1.jpg")
    with pytest.raises(PackMismatch):
        svc.add_embeddings("mine", [NewFace(unit(np.random.default_rng(0), 1, 128)[0])])
    with pytest.raises(InvalidFacesetToken):
        svc.get("mine", tenant="someone-else")
    svc.create("mine", tenant="someone-else")  # the same outer_id in another tenant
    assert svc.galleries(tenant="someone-else").total == 1 and svc.galleries().total == 2
    for bad in ({"top_k": 0}, {"top_k": 101}, {"by": "person"}, {"far": "1e-2"}):
        with pytest.raises(BadInput):
            SearchOptions(**bad)
    assert Path(svc.data_dir / "faceprint.db").exists()


def test_enrol_spellings_are_deprecated_aliases_of_enroll():
    import warnings

    from faceprint.gallery import GalleryService

    assert GalleryService.enrol.__wrapped__ is GalleryService.enroll  # type: ignore[attr-defined]
    assert GalleryService.enrol_folder.__wrapped__ is GalleryService.enroll_folder  # type: ignore[attr-defined]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(AttributeError):  # no service behind it: only the warning matters here
            GalleryService.enrol_one(None, "g", None, "s")  # type: ignore[arg-type]
    assert [w.category for w in caught] == [DeprecationWarning] and "enroll_one" in str(caught[0].message)


def test_a_search_reads_its_gallery_once(enrolled, shared, monkeypatch):
    """The faceset a search resolves is handed down, not read again (cf. bench/store_trips.py)."""
    import sqlite3

    from faceprint.gallery import identify

    svc, _ = enrolled
    token = svc.get("people").token
    svc.store.close()  # fresh connections, traced from here on
    reads: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(lambda sql: reads.append(sql) if " FROM facesets" in sql and sql.lstrip().upper().startswith("SELECT") else None)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    probe = shared / "gallery" / "test" / "obama1.jpg"
    assert svc.search(token, probe).subject == "obama"
    assert len(reads) == 1, reads
    reads.clear()
    assert identify.identify(svc, token, [probe], SearchOptions(by="subject"), tenant="default")[0].names == ["obama"]
    gallery = svc.gallery(token)
    reads.clear()
    assert [r.subject for r in gallery.search_batch([probe, probe])] == ["obama", "obama"]
    assert len(reads) == 1, reads
    assert len(reads) == 1, reads
