"""``--index milvus://host:19530``: :class:`MilvusIndexes`, one collection per gallery kept in step with the store.

The design (names, consistency, erasure) is described in :mod:`faceprint.index.milvus`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...errors import InvalidFacesetToken
from ..backends import IndexContext, Indexes, register_indexes
from ..policy import IndexPolicy
from ..rerank import rerank
from ..types import Hits, as_queries
from .client import COMPACT_WAIT_S, ID, VECTOR, MilvusConnection, alias_of, collection_gone, row_batches, spec_of
from .config import MilvusAddress, parse_address
from .plan import MilvusPlan, candidates, plan_for, search_params

if TYPE_CHECKING:
    from ...gallery.store.base import IndexState, Marker, Store, VectorSource
    from ...gallery.types import FaceSet

log = logging.getLogger(__name__)

MARKER = "milvus"
DELETE_BATCH = 10_000
FLUSH_ROWS = 10_000  # a sync that writes this many rows seals them (a cluster seals growing segments itself)
LITE_FLUSH_ROWS = 1_000  # Lite scans unflushed rows in Python (~0.1 ms each at 512-D): flush after this many


@dataclass(frozen=True)
class _Known:
    """What this process last saw of a gallery in Milvus."""

    faceset_id: int
    generation: int
    plan: MilvusPlan
    collection: str  # the physical collection the alias pointed at


class MilvusIndexes(MilvusConnection, Indexes):
    shared = True  # galleries' collections outlive the process: dropped before the store's rows

    def __init__(self, address: MilvusAddress, store: Store, policy: IndexPolicy, compact_wait_s: float = COMPACT_WAIT_S) -> None:
        super().__init__(address, compact_wait_s)
        self.store = store
        self.policy = policy
        self._source: VectorSource = store.vector_source()
        self._known: dict[str, _Known] = {}
        self._unflushed: dict[str, int] = {}  # rows this process wrote to each collection since it flushed it

    def check_spec(self, spec: str, dim: int) -> None:
        super().check_spec(spec, dim)
        if spec != "auto":
            plan_for(spec, dim)

    # -- catching up ---------------------------------------------------------------------------
    def sync(self, faceset: FaceSet, fresh: bool = False) -> None:
        self.retrying("sync", lambda: self._sync(faceset))

    def _sync(self, faceset: FaceSet, *, force: bool = False, rewrite: bool = False) -> _Known:
        try:
            return self._sync_once(faceset, force, rewrite)
        except InvalidFacesetToken:
            if self._known.pop(faceset.token, None) is None:
                raise
            return self._sync_once(faceset, force, rewrite)  # a gallery of that token came back (moved in again)

    def _sync_once(self, faceset: FaceSet, force: bool, rewrite: bool) -> _Known:
        known = self._known.get(faceset.token)
        fid = known.faceset_id if known else self.store.faceset_id(faceset.tenant, faceset.token)
        if not (force or rewrite) and known is not None and known.generation >= self.store.index_state(fid).generation:
            return known
        with self.store.index_marker(fid, MARKER) as marker:
            state = self.store.index_state(fid)
            current = self.current(faceset.token)
            if not (force or rewrite) and known is not None and marker.generation == state.generation and current == known.collection:
                known = _Known(fid, state.generation, known.plan, current)  # another node caught up already
            else:
                known = self._catch_up(faceset, fid, marker, state, current, rewrite)
        self._known[faceset.token] = known
        return known

    def _catch_up(self, faceset: FaceSet, fid: int, marker: Marker, state: IndexState, current: str | None, rewrite: bool) -> _Known:
        have = spec_of(current) if current else None
        want = plan_for(self.policy.choose(faceset.index_spec, state.count, faceset.dim, have), faceset.dim)
        listed = marker.generation >= 0 and state.removed_floor <= marker.generation <= state.generation
        if rewrite or current is None or have != want.spec or not listed:
            current = self._rebuild(faceset, fid, state, want)
        elif marker.generation != state.generation:
            self._apply(current, fid, marker.generation, state.generation, faceset.dim)
        marker.generation = state.generation
        return _Known(fid, state.generation, want, current)

    def _apply(self, name: str, fid: int, since: int, upto: int, dim: int) -> int:
        """Upsert faces added in (since, upto], delete those removed; idempotent. Returns rows written."""
        client, t = self.client(), self.address.write_timeout
        written = 0
        for ids, vecs in self.store.added_since(fid, since, upto=upto):
            for rows in row_batches(ids, vecs, dim):
                client.upsert(name, rows, timeout=t)
            written += len(ids)
        gone = self.store.removed_since(fid, since, upto=upto)
        for i in range(0, len(gone), DELETE_BATCH):
            client.delete(name, ids=gone[i : i + DELETE_BATCH].tolist(), timeout=t)
        pending = self._unflushed.get(name, 0) + written
        if written >= FLUSH_ROWS or (self.lite and pending >= LITE_FLUSH_ROWS):
            client.flush(name, timeout=t)
            pending = 0
        self._unflushed[name] = pending
        return written + len(gone)

    def _rebuild(self, faceset: FaceSet, fid: int, state: IndexState, plan: MilvusPlan) -> str:
        """A new collection holding the store's faces up to ``state``, swapped in under the alias."""
        client, t, alias = self.client(), self.address.write_timeout, alias_of(faceset.token)
        name = f"{alias}__{plan.code}__{secrets.token_hex(4)}"
        self.create_collection(name, faceset.dim, plan)
        n = 0
        for ids, vecs in self.store.added_since(fid, -1, upto=state.generation):
            for rows in row_batches(ids, vecs, faceset.dim):
                client.insert(name, rows, timeout=t)  # a fresh collection: insert cannot duplicate an id
            n += len(ids)
        client.flush(name, timeout=t)
        if client.has_collection(alias, timeout=t):
            client.alter_alias(name, alias, timeout=t)
        else:
            client.create_alias(name, alias, timeout=t)
        self.drop_others(alias, keep=name)
        log.info("Milvus: gallery %s rebuilt as %s (%s, %d faces)", faceset.token, name, plan.spec, n)
        return name

    # -- erasure -------------------------------------------------------------------------------
    def erase(self, faceset: FaceSet) -> None:
        """Delete by id, then make the bytes go: a rewrite on Lite, flush + compaction elsewhere."""
        def erase() -> None:
            if self.erase_mode == "rewrite":
                self._sync(faceset, rewrite=True)
                return
            known = self._sync(faceset, force=True)
            self.compact(known.collection)

        self.retrying("erase", erase)

    def drop(self, token: str) -> None:
        """The gallery was deleted: drop its alias and every collection of it."""
        self._known.pop(token, None)
        with self.talking("drop"):
            client, alias = self.client(), alias_of(token)
            if client.has_collection(alias, timeout=self.address.timeout):
                client.drop_alias(alias, timeout=self.address.write_timeout)
            self.drop_others(alias, keep=None)

    # -- search --------------------------------------------------------------------------------
    def search(self, faceset: FaceSet, queries: np.ndarray, k: int) -> list[Hits]:
        q = as_queries(queries, faceset.dim)
        if k <= 0 or not len(q):
            return [Hits.empty() for _ in range(len(q))]
        return self.retrying("search", lambda: self._search_synced(faceset, q, k))

    def _search_synced(self, faceset: FaceSet, q: np.ndarray, k: int) -> list[Hits]:
        known = self._sync(faceset)
        try:
            return self._search(faceset, known.plan, q, k)
        except Exception as exc:
            if not collection_gone(exc):
                raise
        log.warning("Milvus: the collection of gallery %s went away; catching up", faceset.token)
        return self._search(faceset, self._sync(faceset, force=True).plan, q, k)

    def _search(self, faceset: FaceSet, plan: MilvusPlan, q: np.ndarray, k: int) -> list[Hits]:
        found = self.client().search(
            alias_of(faceset.token), data=q, limit=candidates(plan, self.policy, k), anns_field=VECTOR,
            output_fields=[ID], search_params={"metric_type": "IP", "params": search_params(plan, self.policy)},
            consistency_level="Strong", timeout=self.address.timeout,
        )  # fmt: skip
        hits = [
            Hits(np.fromiter((h["id"] for h in r), np.int64, len(r)), np.fromiter((h["distance"] for h in r), np.float32, len(r)))
            for r in found
        ]
        return rerank(self._source, q, hits, k) if plan.refine else hits

    def close(self) -> None:
        self.reset()
        self._known.clear()


def _open(url: str, ctx: IndexContext) -> MilvusIndexes:
    if ctx.cipher.enabled:
        log.warning("the store is encrypted, but Milvus holds vectors unencrypted: use the object store's encryption")
    return MilvusIndexes(parse_address(url), ctx.store, ctx.policy)


register_indexes("milvus", _open)
register_indexes("milvus+https", _open)
