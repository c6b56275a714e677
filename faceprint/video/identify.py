"""Who each track is: a few best faces -> one template per track -> people -> gallery search.

1. **Templates.** Each track's kept faces (its best by quality, see tracklets.py) are embedded
   in one batched call and averaged into one L2-normalised template.
2. **Re-linking within a shot.** A track that ends and another that starts soon after, near the
   same place in the same shot, with templates at least as similar as the calibrated FAR
   ``relink_far`` point, are one person whom the detector lost for a moment.
3. **Merging across cuts and long gaps** (agglomerative, average linkage): groups that never
   share a frame, with templates above the ``merge_far`` point, are one person. Only groups
   that hold a face of quality ``merge_min_quality`` or more take part: blurred, dark or profile
   faces all look alike to a recogniser, so appearance alone must not join them.
4. **Identification.** Each person's template is searched in the gallery and kept as that
   subject only above the calibrated open-set threshold at ``far``; people identified as the
   same subject become one. The rest are ``unknown-1``, ``unknown-2``... by first appearance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..compare import FAR_LEVELS
from ..engine import FaceEngine
from ..errors import BadInput
from ..gallery.search import SearchOptions
from ..gallery.types import SearchResult
from ..pipeline import Found
from .tracklets import Tracklet

TRACK_TOP_K = 10  # subjects looked up per track; a track whose person is not among them scores 0


class Searcher(Protocol):
    """A gallery to identify against: ``GalleryService.gallery(name)`` is one."""

    def search_embeddings(self, vectors: np.ndarray, options: SearchOptions | None = None) -> list[SearchResult]: ...


@dataclass(frozen=True)
class IdentifyConfig:
    far: str = "1e-5"  # open-set decision: known only above the calibrated threshold at this FAR
    relink_far: str = "1e-3"  # appearance bar to re-link fragments of a track within one shot
    merge_far: str = "1e-4"  # appearance bar to merge people across cuts and long gaps
    merge_min_quality: float = 25.0  # both sides need a face at least this good to merge by appearance
    relink_gap_s: float = 2.0  # longest break re-linked within a shot
    relink_distance: float = 0.5  # box sizes between where a track ends and the next starts, at once...
    relink_speed: float = 1.5  # ...plus this many box sizes per second of break
    min_detections: int = 2  # people seen fewer times are dropped as noise

    def __post_init__(self) -> None:
        for name in ("far", "relink_far", "merge_far"):
            if getattr(self, name) not in FAR_LEVELS:
                raise BadInput(f"{name} must be one of {', '.join(FAR_LEVELS)}; got {getattr(self, name)!r}")


@dataclass(frozen=True, eq=False)
class Person:
    person_id: int  # 1.. in order of first appearance
    label: str  # the subject, or "unknown-N"
    subject: str | None  # None: not enrolled
    confidence: float  # 0-100 against the best gallery match (below threshold when unknown)
    similarity: float  # cosine similarity to that match; 0 with no gallery
    track_ids: tuple[int, ...]
    first_s: float
    thumbnail: np.ndarray  # BGR crop of the best face
    template: np.ndarray  # (D,) unit vector

    @property
    def known(self) -> bool:
        return self.subject is not None


@dataclass(frozen=True)
class Identification:
    persons: tuple[Person, ...]
    track_person: dict[int, int]  # track id -> person id (tracks dropped as noise are absent)
    track_confidence: dict[int, float]  # track id -> its own template's confidence for its person's label
    embeddings: int  # faces embedded
    threshold: float  # confidence needed at ``far``

    def person(self, person_id: int) -> Person:
        return next(p for p in self.persons if p.person_id == person_id)


@dataclass
class _Group:
    tracks: list[Tracklet]
    template: np.ndarray
    quality: float
    frames: set[int] = field(default_factory=set)

    @property
    def weight(self) -> float:
        return float(sum(t.detections for t in self.tracks))

    @property
    def first_s(self) -> float:
        return min(t.start_s for t in self.tracks)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / max(float(np.linalg.norm(x)), 1e-12)).astype(np.float32)


def embed_tracklets(engine: FaceEngine, tracklets: Sequence[Tracklet]) -> tuple[np.ndarray, int]:
    """(N, D) templates, one per tracklet (zero rows for tracklets without a face), and faces embedded."""
    found = [Found.of(c.crop, [c.face]) for t in tracklets for c in t.candidates]
    vecs = [f[0].embedding for f in engine.embed_found(found)]
    rows = np.stack(vecs).astype(np.float32) if vecs else np.zeros((0, engine.dim), np.float32)  # type: ignore[arg-type]
    out = np.zeros((len(tracklets), engine.dim), np.float32)
    k = 0
    for i, t in enumerate(tracklets):
        n = len(t.candidates)
        if n:
            w = np.array([1.0 + c.quality / 25.0 for c in t.candidates], np.float32)  # better faces count more
            out[i] = _unit((rows[k : k + n] * w[:, None]).sum(axis=0))
        k += n
    return out, len(found)


def _merge(a: _Group, b: _Group) -> _Group:
    t = _unit(a.template * a.weight + b.template * b.weight)
    return _Group(a.tracks + b.tracks, t, max(a.quality, b.quality), a.frames | b.frames)


def _relink(groups: list[_Group], shots: Sequence[int], cfg: IdentifyConfig, bar: float) -> list[_Group]:
    """Join a track to the one that continues it in the same shot (each end used once)."""
    order = sorted(range(len(groups)), key=lambda i: groups[i].tracks[0].start_s)
    links: list[tuple[float, int, int]] = []
    for i in order:
        a = groups[i].tracks[-1]
        for j in order:
            b = groups[j].tracks[0]
            gap = b.start_s - a.end_s
            if i == j or gap <= 0 or gap > cfg.relink_gap_s or _shot(shots, a.frames[-1]) != _shot(shots, b.frames[0]):
                continue
            ab, bb = a.boxes[-1], b.boxes[0]
            size = max(ab[2] - ab[0], ab[3] - ab[1], bb[2] - bb[0], bb[3] - bb[1])
            dist = float(np.linalg.norm((ab[:2] + ab[2:]) / 2 - (bb[:2] + bb[2:]) / 2))
            sim = float(groups[i].template @ groups[j].template)
            if dist <= size * (cfg.relink_distance + cfg.relink_speed * gap) and sim >= bar and not groups[i].frames & groups[j].frames:
                links.append((gap - sim, i, j))
    nxt: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in sorted(links):
        if i not in nxt and j not in taken:
            nxt[i] = j
            taken.add(j)
    out = []
    for i in order:
        if i in taken:
            continue
        g = groups[i]
        while i in nxt:
            i = nxt[i]
            g = _merge(g, groups[i])
        out.append(g)
    return out


def _shot(shots: Sequence[int], frame: int) -> int:
    return int(np.searchsorted(np.asarray(shots), frame, side="right"))


def _agglomerate(groups: list[_Group], bar: float, min_quality: float) -> list[_Group]:
    """Average-linkage merging of groups that never share a frame and hold a good enough face."""
    groups = list(groups)
    while True:
        best, pair = bar, None
        for i in range(len(groups)):
            if groups[i].quality < min_quality:
                continue
            for j in range(i + 1, len(groups)):
                gi, gj = groups[i], groups[j]
                if gj.quality < min_quality or gi.frames & gj.frames:
                    continue
                sim = float(gi.template @ gj.template)
                if sim >= best:
                    best, pair = sim, (i, j)
        if pair is None:
            return groups
        i, j = pair
        groups[i] = _merge(groups[i], groups[j])
        del groups[j]


def identify(
    engine: FaceEngine,
    tracklets: Sequence[Tracklet],
    gallery: Searcher | None,
    cuts: Sequence[int] = (),
    config: IdentifyConfig | None = None,
) -> Identification:
    """People in a video from its tracklets; ``cuts`` are the frame indices that start a new shot."""
    cfg = config or IdentifyConfig()
    cal = engine.calibration
    threshold = cal.thresholds[cfg.far]
    usable = [t for t in tracklets if t.candidates]
    templates, embedded = embed_tracklets(engine, usable)
    track_tpl = {t.track_id: templates[i] for i, t in enumerate(usable)}
    groups = [_Group([t], templates[i], t.best_quality, set(t.frames)) for i, t in enumerate(usable)]
    groups = _relink(groups, sorted(cuts), cfg, cal.similarity_at_far[cfg.relink_far])
    groups = _agglomerate(groups, cal.similarity_at_far[cfg.merge_far], cfg.merge_min_quality)
    groups = [g for g in groups if g.weight >= cfg.min_detections]

    results = _search(gallery, [g.template for g in groups], cfg.far)
    by_subject: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        if r is not None and r.subject is not None:
            by_subject.setdefault(r.subject, []).append(i)
    for idx in by_subject.values():  # one person per enrolled subject unless two are seen at once
        for k in idx[1:]:
            if not groups[idx[0]].frames & groups[k].frames:
                groups[idx[0]].tracks += groups[k].tracks
                groups[idx[0]].frames |= groups[k].frames
                groups[k].tracks = []
    keep = [i for i, g in enumerate(groups) if g.tracks]
    keep.sort(key=lambda i: groups[i].first_s)

    persons, track_person, unknowns = [], {}, 0
    for pid, i in enumerate(keep, start=1):
        g, r = groups[i], results[i]
        best = r.best if r is not None else None
        subject = r.subject if r is not None else None
        if subject is None:
            unknowns += 1
        tracks = sorted(g.tracks, key=lambda t: t.start_s)
        top = max((c for t in tracks for c in t.candidates), key=lambda c: c.rank)
        persons.append(Person(
            person_id=pid, label=subject if subject is not None else f"unknown-{unknowns}", subject=subject,
            confidence=best.confidence if best else 0.0, similarity=best.score if best else 0.0,
            track_ids=tuple(t.track_id for t in tracks), first_s=g.first_s, thumbnail=top.thumbnail(),
            template=_unit(sum(track_tpl[t.track_id] * t.detections for t in tracks)),
        ))  # fmt: skip
        for t in tracks:
            track_person[t.track_id] = pid
    conf = _track_confidence(gallery, persons, track_tpl)
    return Identification(tuple(persons), track_person, conf, embedded, threshold)


def _search(gallery: Searcher | None, templates: Sequence[np.ndarray], far: str, top_k: int = 1) -> list[SearchResult | None]:
    if gallery is None or not templates:
        return [None] * len(templates)
    return list(gallery.search_embeddings(np.stack(templates), SearchOptions(top_k=top_k, by="subject", far=far)))


def _track_confidence(gallery: Searcher | None, persons: Sequence[Person], tpl: dict[int, np.ndarray]) -> dict[int, float]:
    """Each track's own template against its person's label: a known person's subject, else the nearest one."""
    order = [(p, tid) for p in persons for tid in p.track_ids]
    found = _search(gallery, [tpl[tid] for _, tid in order], "1e-5", top_k=TRACK_TOP_K)
    out = {}
    for (p, tid), r in zip(order, found, strict=True):
        if r is None or not r.matches:
            out[tid] = 0.0
        elif p.known:
            out[tid] = next((m.confidence for m in r.matches if m.subject == p.subject), 0.0)
        else:
            out[tid] = r.matches[0].confidence
    return out
