"""``faceprint migrate``: real LFW templates moved between real stores and indexes, tokens kept, verified."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faceprint import FaceEngine
from faceprint.gallery import GalleryConfig, GalleryService, NewFace, SearchOptions
from faceprint.gallery.migrate import migrate

PEOPLE = ("Colin_Powell", "Tony_Blair", "Donald_Rumsfeld", "Gerhard_Schroeder", "Ariel_Sharon", "Hugo_Chavez")
PER_PERSON = 6  # 5 enrolled, 1 probe


@pytest.fixture(scope="module")
def lfw_faces(shared: Path) -> tuple[list[NewFace], np.ndarray, list[str]]:
    engine = FaceEngine("arcface-s")
    enrol, probes, names = [], [], []
    for person in PEOPLE:
        paths = sorted((shared / "lfw" / "images" / person).glob("*.jpg"))[:PER_PERSON]
        faces = [f[0] for f in engine.embed_batch(paths)]
        enrol += [NewFace(f.embedding, person, tuple(f.bbox.tolist()), f.quality.score) for f in faces[:-1]]
        probes.append(faces[-1].embedding)
        names.append(person)
    return enrol, np.stack(probes), names


def _answers(svc: GalleryService, probes: np.ndarray, tenants: tuple[str, ...] = ("acme", "globex")) -> dict:
    out = {}
    for tenant in tenants:
        for fs in svc.galleries(tenant=tenant).items:
            res = svc.search_embeddings(fs.token, probes, SearchOptions(top_k=3), tenant=tenant)
            out[(tenant, fs.token)] = [[(m.face_token, m.subject, round(m.score, 5)) for m in r.matches] for r in res]
    return out


def _ranked(answers: dict) -> dict:
    return {k: [[m[:2] for m in q] for q in v] for k, v in answers.items()}


def _scores(answers: dict) -> list[float]:
    return [m[2] for k in sorted(answers) for q in answers[k] for m in q]


def _cli(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("faceprint")
    return subprocess.run([str(exe), "migrate", *args, "--json"], capture_output=True, text=True, timeout=300)


def _targets(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str]:
    kind = request.param
    if kind == "sqlite+faiss":
        return f"sqlite:///{tmp_path / 'target' / 'faceprint.db'}", "faiss"
    return request.getfixturevalue("postgres_url"), "milvus://" + request.getfixturevalue("milvus_uri").split("://", 1)[1]


@pytest.fixture(params=["sqlite+faiss", "postgresql+milvus"])
def target(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str]:
    return _targets(tmp_path, request)


def test_migrate_keeps_tokens_and_answers_and_is_resumable(tmp_path, lfw_faces, target):
    faces, probes, names = lfw_faces
    src_url = f"sqlite:///{tmp_path / 'source' / 'faceprint.db'}"
    with GalleryService(GalleryConfig(data_dir=tmp_path / "source", store=src_url)) as src:
        for tenant, name in (("acme", "staff"), ("acme", "visitors"), ("globex", "staff")):
            fs = src.create(name, tenant=tenant, display_name=f"{tenant} {name}")
            src.add_embeddings(fs.token, faces if name == "staff" else faces[:7], tenant=tenant)
        before = _answers(src, probes)
        src_tokens = {t: [r.token for r in src.faces(t[1], tenant=t[0], limit=1000).items] for t in before}
    # rank-1 is right before the move (real templates: the probe is a held-out photo of the person)
    assert [r[0][1] for r in before[next(k for k in before if k[0] == "globex")]] == names

    store, index = target
    first = _cli("--from", src_url, "--to", store, "--index", index, "--data", str(tmp_path / "target"))
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["ok"] and report["galleries"] == 3
    assert report["source_faces"] == report["target_faces"] == report["copied"] == 2 * len(faces) + 7

    with GalleryService(GalleryConfig(data_dir=tmp_path / "target", store=store, index=index)) as dst:
        after = _answers(dst, probes)
        assert _ranked(after) == _ranked(before)  # same tokens and subjects in the same order
        assert max(abs(a - b) for a, b in zip(_scores(after), _scores(before), strict=True)) < 1e-4  # Milvus sums in float32 its own way
        for (tenant, token), toks in src_tokens.items():
            assert [r.token for r in dst.faces(token, tenant=tenant, limit=1000).items] == toks
        # tenancy survives the move
        with pytest.raises(Exception) as e:
            dst.get(next(k for k in before if k[0] == "globex")[1], tenant="acme")
        assert e.value.code == "INVALID_FACESET_TOKEN"  # type: ignore[attr-defined]

    again = _cli("--from", src_url, "--to", store, "--index", index, "--data", str(tmp_path / "target"))
    assert again.returncode == 0 and json.loads(again.stdout)["copied"] == 0  # resumable: nothing twice


def test_interrupted_migration_is_topped_up(tmp_path, lfw_faces):
    """A target holding part of a gallery (a run that died) gets exactly the missing faces."""
    faces, probes, _ = lfw_faces
    src = GalleryService(GalleryConfig(data_dir=tmp_path / "s", store=f"sqlite:///{tmp_path / 's' / 'f.db'}"))
    dst = GalleryService(GalleryConfig(data_dir=tmp_path / "d", store=f"sqlite:///{tmp_path / 'd' / 'f.db'}"))
    with src, dst:
        fs = src.create("staff")
        recs = src.add_embeddings(fs.token, faces)
        part = migrate(src, dst)
        assert part.ok
        dst.remove_faces(fs.token, [r.token for r in recs[:10]])  # as if those had not been copied yet
        report = migrate(src, dst)
        assert report.ok and report.galleries[0].copied == 10 and report.galleries[0].target_faces == len(faces)
        assert _answers(dst, probes, ("default",)) == _answers(src, probes, ("default",))


def test_migrate_errors_are_codes_not_tracebacks(tmp_path):
    res = _cli("--from", "mysql://nowhere/db", "--to", f"sqlite:///{tmp_path / 'x.db'}")
    assert res.returncode == 2 and json.loads(res.stdout)["error_code"] == "BAD_ARGUMENTS"
    assert "Traceback" not in res.stderr
