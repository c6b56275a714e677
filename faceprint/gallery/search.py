"""1:N search over one or several galleries: top-K per face or per subject, with an open-set answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..compare import FAR_LEVELS, Calibration
from ..errors import BadInput, PackMismatch
from ..index.backends import Indexes
from .store.base import Store
from .types import MAX_TOP_K, FaceSet, Match

GROUPINGS = ("face", "subject")


@dataclass(frozen=True)
class SearchOptions:
    top_k: int = 5  # 1-100
    by: str = "face"  # "face": best faces; "subject": the best face of each subject
    far: str = "1e-4"  # the false-accept rate whose threshold decides known / unknown
    face: int | None = None  # which face of a probe image (largest first); None: the largest

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= MAX_TOP_K:
            raise BadInput(f"top_k must be 1-{MAX_TOP_K}; got {self.top_k}")
        if self.by not in GROUPINGS:
            raise BadInput(f"by must be one of {', '.join(GROUPINGS)}; got {self.by!r}")
        if self.far not in FAR_LEVELS:
            raise BadInput(f"far must be one of {', '.join(FAR_LEVELS)}; got {self.far!r}")


def common_pack(facesets: Sequence[FaceSet]) -> FaceSet:
    """The galleries searched together must hold templates of one pack and dimension."""
    if not facesets:
        raise BadInput("name at least one faceset to search")
    first = facesets[0]
    for fs in facesets[1:]:
        if (fs.pack, fs.dim) != (first.pack, first.dim):
            raise PackMismatch(f"facesets {first.name} ({first.pack}) and {fs.name} ({fs.pack}) hold different packs")
    return first


def _subject_key(m: Match) -> str:
    return m.subject or f"face:{m.face_token}"


def _rank(matches: list[Match], options: SearchOptions) -> tuple[list[Match], bool]:
    """Best first, grouped if asked; the flag says whether more candidates could change the answer."""
    matches.sort(key=lambda m: -m.score)
    if options.by == "face":
        return matches[: options.top_k], False
    seen: set[str] = set()
    best = []
    for m in matches:
        key = _subject_key(m)
        if key not in seen:
            seen.add(key)
            best.append(m)
    return best[: options.top_k], len(best) < options.top_k


def search_vectors(
    manager: Indexes,
    store: Store,
    facesets: Sequence[FaceSet],
    vectors: np.ndarray,
    options: SearchOptions,
    calibration: Calibration,
) -> list[tuple[Match, ...]]:
    """Matches for each row of ``vectors`` (L2-normalised templates), best first."""
    q = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
    total = sum(fs.face_count for fs in facesets)
    k = options.top_k if options.by == "face" else min(options.top_k * 4 + 16, MAX_TOP_K * 10)
    todo = list(range(len(q)))
    out: list[tuple[Match, ...]] = [()] * len(q)
    while todo:
        found = _gather(manager, store, facesets, q[todo], k, calibration)
        again = []
        for qi, matches in zip(todo, found, strict=True):  # one list of matches per query asked
            ranked, short = _rank(matches, options)
            out[qi] = tuple(ranked)
            if short and len(matches) >= k and k < total:
                again.append(qi)
        todo, k = again, k * 4
    return out


def _gather(
    manager: Indexes, store: Store, facesets: Sequence[FaceSet], q: np.ndarray, k: int, calibration: Calibration
) -> list[list[Match]]:
    per_query: list[list[tuple[int, float]]] = [[] for _ in range(len(q))]
    for fs in facesets:
        for qi, found in enumerate(manager.search(fs, q, k)):
            per_query[qi].extend(zip(found.ids.tolist(), found.scores.tolist(), strict=True))
    labels = np.unique(np.array([i for pairs in per_query for i, _ in pairs], dtype=np.int64))
    resolved = store.resolve(labels)  # faces removed since the index last caught up drop out here

    def confidence(s: float) -> float:
        return float(calibration.confidence(s))

    out = []
    for pairs in per_query:
        out.append(
            [
                Match(r.face_token, r.subject, float(s), confidence(s), r.faceset_token)
                for i, s in pairs
                if (r := resolved.get(i)) is not None
            ]
        )
    return out
