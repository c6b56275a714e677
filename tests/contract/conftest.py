"""The backends the gallery contract runs on, and the real LFW faces it runs with.

``backend`` is one of (SQLite + FAISS), (PostgreSQL + FAISS), (PostgreSQL + Milvus), each on a
fresh store. ``backend.open("a")`` starts a GalleryService as API node "a": every node shares
the store (and the Milvus server), and keeps its own data directory, as separate machines would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from faceprint import FaceEngine
from faceprint.gallery import EnrolOptions, GalleryConfig, GalleryService, NewFace
from faceprint.gallery.enrol import prepare_one

ENROLLED = ("Colin_Powell", "Donald_Rumsfeld", "Gerhard_Schroeder", "Hugo_Chavez", "Tony_Blair")
STRANGERS = ("Jacques_Chirac", "Serena_Williams")  # never enrolled: open-set probes
PHOTOS = 3  # photos 1-3 of each enrolled person are enrolled, photo 4 is their probe
BACKENDS = ("sqlite+faiss", "postgresql+faiss", "postgresql+milvus")


def lfw_photo(shared: Path, name: str, i: int) -> Path:
    return shared / "lfw" / "images" / name / f"{name}_{i:04d}.jpg"


@dataclass(frozen=True)
class LfwFaces:
    """Photos of a few LFW people and their templates, computed once by the real engine."""

    photos: dict[str, list[Path]]  # enrolled person -> photos to enrol
    probes: dict[str, Path]  # enrolled person -> a photo of them that is not enrolled
    strangers: list[Path]  # people who are never enrolled
    faces: dict[str, list[NewFace]]  # enrolled person -> a template per photo, ready for add_embeddings
    probe_vectors: np.ndarray  # (len(ENROLLED), D): the probes' templates, in ENROLLED order
    stranger_vectors: np.ndarray

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.faces.values())

    def all_faces(self) -> list[NewFace]:
        return [f for name in ENROLLED for f in self.faces[name]]


@pytest.fixture(scope="session")
def lfw(shared: Path, engine: FaceEngine) -> LfwFaces:
    opts = EnrolOptions(face=0)

    def template(path: Path, subject: str) -> NewFace:
        return prepare_one(engine, path, subject, opts)

    photos = {n: [lfw_photo(shared, n, i) for i in range(1, PHOTOS + 1)] for n in ENROLLED}
    probes = {n: lfw_photo(shared, n, PHOTOS + 1) for n in ENROLLED}
    strangers = [lfw_photo(shared, n, 1) for n in STRANGERS]
    return LfwFaces(
        photos=photos,
        probes=probes,
        strangers=strangers,
        faces={n: [template(p, n) for p in ps] for n, ps in photos.items()},
        probe_vectors=np.stack([template(probes[n], n).embedding for n in ENROLLED]),
        stranger_vectors=np.stack([template(p, "").embedding for p in strangers]),
    )


@dataclass
class Backend:
    """One (store, index) pair; ``open`` starts an API node on it."""

    name: str
    store: str
    index: str
    root: Path
    engine: FaceEngine
    opened: list[GalleryService] = field(default_factory=list)

    def open(self, node: str = "a") -> GalleryService:
        svc = GalleryService(GalleryConfig(data_dir=self.root / node, store=self.store, index=self.index), engine=self.engine)
        self.opened.append(svc)
        return svc

    def close(self, svc: GalleryService) -> None:
        self.opened.remove(svc)
        svc.close()

    def close_all(self) -> None:
        while self.opened:
            self.close(self.opened[-1])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, engine: FaceEngine) -> Iterator[Backend]:
    name = request.param
    if name == "sqlite+faiss":
        store, index = f"sqlite:///{tmp_path / 'store' / 'faceprint.db'}", "faiss"
    else:
        store = request.getfixturevalue("postgres_url")
        index = "faiss"
        if name == "postgresql+milvus":
            index = request.getfixturevalue("milvus_uri").replace("http://", "milvus://", 1)
    b = Backend(name, store, index, tmp_path / "nodes", engine)
    yield b
    b.close_all()
