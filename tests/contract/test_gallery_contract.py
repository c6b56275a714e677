"""One contract for every gallery backend: (SQLite + FAISS), (PostgreSQL + FAISS), (PostgreSQL + Milvus).

Real LFW photos through the real engine (conftest.py). Whether an erased embedding's bytes are
gone from disk is each backend's own test (test_gallery_erasure.py, test_gallery_postgres.py);
here, erased faces must never come back through the API, on any node.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from faceprint.errors import FaceprintError, FacesetExist, InvalidFacesetToken, InvalidFaceToken
from faceprint.gallery import EnrolOptions, FaceRecord, GalleryService, NewFace, SearchOptions

from .conftest import ENROLLED, PHOTOS, Backend, LfwFaces

ALL = SearchOptions(top_k=100)  # more than any gallery here holds


def fill(svc: GalleryService, lfw: LfwFaces, ref: str = "people", tenant: str = "default") -> dict[str, list[FaceRecord]]:
    """A gallery holding every enrolled person's templates; their records by person."""
    svc.create(ref, tenant=tenant)
    records = svc.add_embeddings(ref, lfw.all_faces(), tenant=tenant)
    return {name: records[i * PHOTOS : (i + 1) * PHOTOS] for i, name in enumerate(ENROLLED)}


def exact_top(lfw: LfwFaces, records: dict[str, list[FaceRecord]], query: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Brute force over the stored templates: (face token, inner product), best first."""
    pairs = [(r.token, f.embedding) for name in ENROLLED for r, f in zip(records[name], lfw.faces[name], strict=True)]
    scores = np.stack([v for _, v in pairs]).astype(np.float32) @ query.astype(np.float32)
    order = np.argsort(-scores)[:k]
    return [(pairs[i][0], float(scores[i])) for i in order]


def tokens(results) -> set[str]:
    return {m.face_token for r in results for m in r.matches}


def test_enrolled_photos_are_found_and_strangers_are_unknown(backend: Backend, lfw: LfwFaces) -> None:
    svc = backend.open()
    svc.create("people")
    for name, photos in lfw.photos.items():
        report = svc.enrol("people", photos, name, EnrolOptions(face=0))
        assert len(report.enrolled) == PHOTOS and not report.rejected and not report.duplicates
        assert {f.subject for f in report.enrolled} == {name} and all(len(f.image_sha256) == 64 for f in report.enrolled)
    assert svc.get("people").face_count == lfw.count
    again = svc.enrol("people", lfw.photos[ENROLLED[0]], ENROLLED[0], EnrolOptions(face=0))
    assert not again.enrolled and len(again.duplicates) == PHOTOS  # the store knows these images
    for name, probe in lfw.probes.items():
        result = svc.search("people", probe, SearchOptions(top_k=3, by="subject"))
        assert result.subject == name and result.known
        assert len({m.subject for m in result.matches}) == 3
    for probe in lfw.strangers:
        result = svc.search("people", probe, SearchOptions(top_k=3, by="subject"))
        assert result.subject is None and not result.known and len(result.matches) == 3


def test_search_returns_the_exact_top_k_by_face_and_by_subject(backend: Backend, lfw: LfwFaces) -> None:
    svc = backend.open()
    records = fill(svc, lfw)
    by_face = svc.search_embeddings("people", lfw.probe_vectors, SearchOptions(top_k=5))
    for name, q, result in zip(ENROLLED, lfw.probe_vectors, by_face, strict=True):
        want = exact_top(lfw, records, q, 5)
        assert [m.face_token for m in result.matches] == [t for t, _ in want]
        np.testing.assert_allclose([m.score for m in result.matches], [s for _, s in want], atol=1e-4)
        assert [m.subject for m in result.matches[:PHOTOS]] == [name] * PHOTOS and result.subject == name
        assert {m.faceset_token for m in result.matches} == {svc.get("people").token}
    by_subject = svc.search_embeddings("people", lfw.probe_vectors, SearchOptions(top_k=4, by="subject"))
    for name, q, result in zip(ENROLLED, lfw.probe_vectors, by_subject, strict=True):
        best: dict[str, tuple[str, float]] = {}
        for tok, score in exact_top(lfw, records, q, lfw.count):
            subject = next(n for n in ENROLLED if tok in {r.token for r in records[n]})
            best.setdefault(subject, (tok, score))
        want = sorted(best.items(), key=lambda kv: -kv[1][1])[:4]
        assert [(m.subject, m.face_token) for m in result.matches] == [(s, t) for s, (t, _) in want]
        assert result.matches[0].subject == name
    for result in svc.search_embeddings("people", lfw.stranger_vectors, SearchOptions(top_k=3)):
        assert not result.known and result.subject is None and result.to_dict()["decision"] == "unknown"


def test_removed_faces_and_subjects_never_come_back_on_any_node(backend: Backend, lfw: LfwFaces) -> None:
    a, b = backend.open("a"), backend.open("b")
    records = fill(a, lfw)
    assert b.search_embeddings("people", lfw.probe_vectors)[0].subject == ENROLLED[0]  # b has the gallery loaded
    one = records[ENROLLED[0]][0]
    subject = ENROLLED[1]
    assert a.remove_faces("people", [one.token]) == 1
    assert b.remove_subject("people", subject) == PHOTOS  # the other node removes a whole subject
    assert a.remove_faces("people", [one.token]) == 0 and a.remove_subject("people", "nobody") == 0
    gone = [one, *records[subject]]
    vectors = np.stack([lfw.faces[ENROLLED[0]][0].embedding, *(f.embedding for f in lfw.faces[subject])])
    for svc in (a, b):
        assert svc.get("people").face_count == lfw.count - len(gone)
        page = svc.faces("people")
        assert page.total == lfw.count - len(gone) and not {f.token for f in page.items} & {r.token for r in gone}
        assert svc.faces("people", subject=subject).total == 0
        for r in gone:
            with pytest.raises(InvalidFaceToken):
                svc.face(r.token)
        assert not tokens(svc.search_embeddings("people", vectors, ALL)) & {r.token for r in gone}
        result = svc.search_embeddings("people", lfw.probe_vectors[1:2], SearchOptions(by="subject"))[0]
        assert subject not in {m.subject for m in result.matches} and result.subject is None
        assert svc.search_embeddings("people", lfw.probe_vectors[:1])[0].subject == ENROLLED[0]  # the rest stays


def test_deleted_gallery_is_gone_with_its_faces(backend: Backend, lfw: LfwFaces) -> None:
    a, b = backend.open("a"), backend.open("b")
    records = fill(a, lfw)
    b.search_embeddings("people", lfw.probe_vectors)
    assert b.delete("people") == lfw.count
    for svc in (a, b):
        with pytest.raises(InvalidFacesetToken):
            svc.get("people")
        with pytest.raises(InvalidFacesetToken):
            svc.search_embeddings("people", lfw.probe_vectors)
        with pytest.raises(InvalidFaceToken):
            svc.face(records[ENROLLED[0]][0].token)
        assert svc.galleries().total == 0
    a.create("people")  # the name is free again, and the new gallery starts empty
    assert a.get("people").face_count == 0 and b.faces("people").total == 0
    assert all(not r.matches for r in b.search_embeddings("people", lfw.probe_vectors))


def _error(call) -> FaceprintError:
    with pytest.raises(FaceprintError) as info:
        call()
    return info.value


def test_a_tenant_cannot_see_search_or_change_another_tenants_gallery(backend: Backend, lfw: LfwFaces) -> None:
    svc = backend.open()
    acme = fill(svc, lfw, tenant="acme")
    acme_token = svc.get("people", tenant="acme").token
    svc.create("people", tenant="globex")  # outer ids are per tenant
    own = svc.add_embeddings("people", lfw.faces[ENROLLED[2]], tenant="globex")
    missing = "0" * 32
    q = lfw.probe_vectors[:1]
    calls = {
        "get": lambda ref: svc.get(ref, tenant="globex"),
        "search": lambda ref: svc.search_embeddings(ref, q, tenant="globex"),
        "faces": lambda ref: svc.faces(ref, tenant="globex"),
        "add": lambda ref: svc.add_embeddings(ref, lfw.faces[ENROLLED[3]], tenant="globex"),
        "enrol": lambda ref: svc.enrol(ref, lfw.photos[ENROLLED[3]][:1], "x", EnrolOptions(face=0), tenant="globex"),
        "remove_faces": lambda ref: svc.remove_faces(ref, [acme[ENROLLED[0]][0].token], tenant="globex"),
        "remove_subject": lambda ref: svc.remove_subject(ref, ENROLLED[0], tenant="globex"),
        "delete": lambda ref: svc.delete(ref, tenant="globex"),
    }
    for what, call in calls.items():
        seen, absent = _error(lambda call=call: call(acme_token)), _error(lambda call=call: call(missing))
        assert (type(seen), seen.code, seen.http_status) == (type(absent), absent.code, absent.http_status), what
        assert isinstance(seen, InvalidFacesetToken), what
    face = acme[ENROLLED[0]][0].token
    seen, absent = _error(lambda: svc.face(face, tenant="globex")), _error(lambda: svc.face("f" * 32, tenant="globex"))
    assert type(seen) is type(absent) is InvalidFaceToken and seen.code == absent.code
    assert svc.remove_faces("people", [face], tenant="globex") == 0  # by token, into its own gallery: nothing
    assert [g.token for g in svc.galleries(tenant="globex").items] == [svc.get("people", tenant="globex").token]
    found = svc.search_embeddings("people", lfw.probe_vectors, ALL, tenant="globex")
    assert tokens(found) == {r.token for r in own}  # only its own faces, whatever the probe
    assert svc.get("people", tenant="acme").face_count == lfw.count  # nothing of acme's changed
    assert svc.face(face, tenant="acme").subject == ENROLLED[0]


def test_a_restarted_node_and_a_new_node_find_everything(backend: Backend, lfw: LfwFaces) -> None:
    first = backend.open("a")
    records = fill(first, lfw)
    first.create("empty", display_name="Empty", tags=["t"])
    gone = records[ENROLLED[4]][0]
    first.remove_faces("people", [gone.token])
    before = first.search_embeddings("people", lfw.probe_vectors, SearchOptions(top_k=5))
    listed = [f.token for f in first.faces("people").items]
    backend.close(first)
    for node in ("a", "c"):  # "a" restarts on its own data directory; "c" never ran before
        svc = backend.open(node)
        assert [g.outer_id for g in svc.galleries().items] == ["people", "empty"]
        assert svc.get("empty").tags == ("t",) and svc.get("people").face_count == lfw.count - 1
        assert [f.token for f in svc.faces("people").items] == listed
        after = svc.search_embeddings("people", lfw.probe_vectors, SearchOptions(top_k=5))
        for x, y in zip(before, after, strict=True):
            assert [m.face_token for m in x.matches] == [m.face_token for m in y.matches]
            np.testing.assert_allclose([m.score for m in x.matches], [m.score for m in y.matches], atol=1e-5)
        assert gone.token not in tokens(svc.search_embeddings("people", lfw.faces[ENROLLED[4]][0].embedding[None], ALL))
        added = svc.add_embeddings("people", lfw.faces[ENROLLED[4]][:1])  # and it still writes
        assert svc.search_embeddings("people", lfw.faces[ENROLLED[4]][0].embedding[None])[0].best.face_token == added[0].token
        svc.remove_faces("people", [added[0].token])
        backend.close(svc)


def test_two_nodes_writing_at_once_lose_nothing(backend: Backend, lfw: LfwFaces) -> None:
    nodes = {"a": backend.open("a"), "b": backend.open("b")}
    made: dict[str, list] = {"a": [], "b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)
    templates = lfw.all_faces()
    batches, per_batch = 8, 4

    def create(node: str) -> None:
        start.wait()
        try:
            made[node].append(nodes[node].create("shared"))
        except FacesetExist as exc:
            made[node].append(exc)

    def write(node: str) -> None:
        svc = nodes[node]
        start.wait()
        try:
            for b in range(batches):
                new = [
                    NewFace(templates[(b * per_batch + i) % len(templates)].embedding, f"{node}-{b}-{i}")
                    for i in range(per_batch)
                ]
                made[node] += svc.add_embeddings("shared", new)
                if b % 3 == 2:  # and remove one of its own faces now and then
                    assert svc.remove_faces("shared", [made[node][-1].token]) == 1
                    made[node].pop()
        except BaseException as exc:
            errors.append(exc)

    for target in (create, write):
        threads = [threading.Thread(target=target, args=(n,)) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if target is create:
            outcomes = made["a"] + made["b"]
            assert sum(isinstance(o, FacesetExist) for o in outcomes) == 1  # exactly one node created it
            made = {"a": [], "b": []}
    assert not errors, errors[0]
    kept = {r.token: r.subject for node in made.values() for r in node}
    assert len(kept) == 2 * (batches * per_batch - batches // 3)
    for svc in nodes.values():
        assert svc.get("shared").face_count == len(kept)
        page = svc.faces("shared", limit=100)
        assert {f.token: f.subject for f in page.items} == kept and page.total == len(kept)
        found = svc.search_embeddings("shared", np.stack([f.embedding for f in templates]), ALL)
        assert tokens(found) == set(kept)  # each node finds the other's faces, and no removed one
