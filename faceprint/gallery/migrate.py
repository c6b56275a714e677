"""Move galleries from one store and index to another (SQLite + FAISS -> PostgreSQL + Milvus, or back).

Tokens are kept: every faceset and face token a client holds works against the target. The copy is
resumable: a gallery already in the target is topped up with the faces it lacks, so an interrupted
run is simply run again. Templates move as they are (no image is needed or read).
Verification, per gallery: the target holds exactly the source's face tokens, with the same
subjects and bit-identical templates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidFacesetToken
from .service import GalleryService
from .store.base import Store
from .types import FaceRecord, FaceSet, NewFace, NewFaceSet

PAGE = 2000  # faces read and written per step

Progress = Callable[[str, int, int], None]  # (gallery name, faces done, faces in it)


@dataclass(frozen=True)
class GalleryMove:
    tenant: str
    token: str
    name: str
    source_faces: int
    target_faces: int
    copied: int
    verified: bool
    problem: str = ""

    def to_dict(self) -> dict[str, object]:
        return dict(vars(self))


@dataclass(frozen=True)
class MigrationReport:
    galleries: tuple[GalleryMove, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(g.verified for g in self.galleries)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "galleries": len(self.galleries),
            "source_faces": sum(g.source_faces for g in self.galleries),
            "target_faces": sum(g.target_faces for g in self.galleries),
            "copied": sum(g.copied for g in self.galleries),
            "moves": [g.to_dict() for g in self.galleries],
        }


def _records(store: Store, tenant: str, token: str) -> Iterator[FaceRecord]:
    start: int | None = 0
    while start is not None:
        page = store.list_faces(tenant, token, start, PAGE)
        yield from page.items
        start = page.next_start


def _templates(store: Store, tenant: str, token: str) -> dict[str, np.ndarray]:
    """Every template of the gallery by face token, read in chunks (no per-face query)."""
    fid = store.faceset_id(tenant, token)
    out: dict[str, np.ndarray] = {}
    for ids, vecs in store.added_since(fid, -1):
        resolved = store.resolve(ids)
        for i, v in zip(ids.tolist(), vecs, strict=True):
            r = resolved.get(i)
            if r is not None:
                out[r.face_token] = v
    return out


def _target_faceset(target: GalleryService, fs: FaceSet) -> FaceSet:
    try:
        return target.store.get_faceset(fs.tenant, token=fs.token)
    except InvalidFacesetToken:
        new = NewFaceSet(fs.pack, fs.dim, fs.outer_id, fs.display_name, fs.tags, fs.user_data, fs.index_spec, fs.tenant,
                         token=fs.token, created=fs.created)  # fmt: skip
        return target.create_for(new)


def move_gallery(source: GalleryService, target: GalleryService, fs: FaceSet, progress: Progress | None = None) -> GalleryMove:
    dest = _target_faceset(target, fs)
    have = {r.token for r in _records(target.store, fs.tenant, fs.token)}
    templates = _templates(source.store, fs.tenant, fs.token)
    copied, batch, src = 0, [], {}
    for rec in _records(source.store, fs.tenant, fs.token):
        src[rec.token] = rec.subject
        done = len(src)
        if rec.token not in have and rec.token in templates:  # a face enrolled after the templates were read waits for the next run
            thumb = source.store.get_thumbnail(fs.tenant, rec.token) if rec.has_thumbnail else None
            batch.append(NewFace(templates[rec.token], rec.subject, rec.bbox, rec.quality, rec.image_sha256, thumb,
                                 token=rec.token, created=rec.created))  # fmt: skip
        if len(batch) >= PAGE:
            copied += _flush(target, dest, batch)
        if progress is not None and done % PAGE == 0:
            progress(fs.name, done, fs.face_count)
    copied += _flush(target, dest, batch)
    if progress is not None:
        progress(fs.name, len(src), fs.face_count)
    return _verify(target, fs, src, templates, copied)


def _flush(target: GalleryService, dest: FaceSet, batch: list[NewFace]) -> int:
    n = len(batch)
    if n:
        target.store.add_faces(dest.tenant, dest.token, batch)
        batch.clear()
    return n


def _verify(
    target: GalleryService, fs: FaceSet, src: dict[str, str], templates: dict[str, np.ndarray], copied: int
) -> GalleryMove:
    """The target holds the source's face tokens, subjects and templates; then its index catches up."""
    dst = {r.token: r.subject for r in _records(target.store, fs.tenant, fs.token)}
    problem = ""
    if src != dst:
        problem = f"{len(set(src) - set(dst))} faces missing, {len(set(dst) - set(src))} extra, " \
                  f"{sum(1 for t in set(src) & set(dst) if src[t] != dst[t])} with another subject"  # fmt: skip
    else:
        moved = _templates(target.store, fs.tenant, fs.token)
        if any(not np.array_equal(moved[t], v) for t, v in templates.items()):
            problem = "templates differ"
    dest = target.store.get_faceset(fs.tenant, token=fs.token)
    target.indexes.sync(dest)
    return GalleryMove(fs.tenant, fs.token, fs.name, len(src), len(dst), copied, not problem, problem)


def migrate(
    source: GalleryService,
    target: GalleryService,
    *,
    tenants: Sequence[str] | None = None,
    galleries: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> MigrationReport:
    """Every gallery of ``tenants`` (None: all of them), or only ``galleries`` (tokens or outer ids)."""
    moves = []
    for tenant in tenants if tenants is not None else source.store.tenants():
        chosen = [source.get(ref, tenant=tenant) for ref in galleries] if galleries is not None else list(source.store.list_facesets(tenant, 0, 1 << 30).items)
        for fs in chosen:
            moves.append(move_gallery(source, target, fs, progress))
    return MigrationReport(tuple(moves))
