"""``--index milvus://host:19530``: galleries' vectors in Milvus, shared by any number of API nodes.

**One collection per gallery**, not partitions per tenant. A gallery fixes its own dimension, pack
and index spec, and a Milvus collection has exactly one vector dimension and one index, so galleries
of different packs or specs could not share one anyway. Deleting a gallery is dropping its
collection, which takes every segment, deltalog and index file with it, with no delete-by-filter
over a shared collection that could miss rows. A search names one collection and no filter
expression, so no tenant filter can be forgotten or wrong. The price: a cluster holds a few
thousand collections comfortably (each one costs coordinator metadata, and query-node memory while
it is loaded; ``rootCoord.maxGeneralCapacity`` caps collections x partitions x shards at 65536).
Deployments with tens of thousands of tiny galleries should group them by (pack, dimension, spec)
and use a partition key instead. Partitions are capped at 1024 per collection and share one index.

**Names.** Searches and writes go through the alias ``faceprint_<faceset token>``. It points at a
physical collection ``faceprint_<token>__<spec code>__<random>``, for example ``...__flat__1f2e3d4c`` or
``...__ivf1024pq64r__...``, whose name records the spec it was built with. A rebuild fills a new
collection off to the side, moves the alias in one step and drops the old one, so searches never see
a half-filled index. The fields are ``id`` (INT64 primary key, the store's face id) and ``vector``
(FLOAT_VECTOR, inner product on L2-normalised templates, so the score is the cosine). Subjects,
tokens and tenants live only in the store, which stays the truth.

**Keeping in step with the store.** The store's :meth:`~faceprint.gallery.store.base.Store.index_marker`
``(faceset, "milvus")`` is both a lock that every node respects and the generation Milvus reflects.
Under it, :meth:`MilvusIndexes.sync` upserts the faces added since the marker and deletes the ones
removed since, up to the generation it read, and only then advances the marker. Upserts and deletes
by id are idempotent, so a node that dies between writing Milvus and saving the marker leaves work
that the next sync, on any node, simply does again. A marker below the store's ``removed_floor``
(tombstones pruned), a missing collection, or an ``auto`` gallery that crossed a size line all mean
a rebuild. A search does not take the lock. It reads the gallery's generation (one indexed read)
and compares it with the generation this process last saw Milvus reach. Only if it is behind does
it take the marker, and then usually finds that the writing node has already caught up.

**Consistency.** An enrol call returns after its sync's upsert has been acknowledged. Searches run
at ``Strong`` consistency: the proxy stamps each search with the current time and query nodes wait
until they have consumed every write before it. A face is therefore found by any node as soon as
its enrol call returns. ``Bounded``, Milvus's default, would let another node miss it for up to
``common.gracefulTime`` (5 s). ``Session`` only covers writes made through the same client.
``Strong`` costs up to one time-tick (``proxy.timeTickInterval``, 200 ms) of extra latency on a
busy cluster. Collections are created ``Strong`` too.

**Erasure.** This was measured on Milvus Lite 3.2.2 by searching its data directory for an erased
vector's float32 bytes. Before a flush, the vector sits in ``collections/<name>/wal/wal_data_*.arrow``.
A flush moves it into ``partitions/_default/data/data_*.parquet``. Once searched, it is also in an
index sidecar ``indexes/data_*.vector.<type>.idx`` for FLAT, IVF_FLAT and HNSW (IVF_SQ8's sidecar
holds 8-bit codes, and IVF_PQ gets no sidecar: Lite scans it exactly). A delete only writes the id
to ``delta/delta_*.parquet``. Delete, then flush, then ``compact()`` still leaves the bytes in the data
file and in the sidecar, because Lite answers ``compact()`` as done without doing anything. Two
things did remove them. One is Lite's own compaction after a flush, which runs only once four data
files share a size bucket (under 1 MB, 1-10 MB, ...) or a partition holds more than 32: the fourth
small flushed file merged all four and took the deleted row and its sidecar with it. The other is
dropping the collection, which deletes its directory. Only the second can be made to happen on
demand, so on Lite :meth:`MilvusIndexes.erase` *rewrites*: it fills a new collection from the store,
moves the alias and drops the old one. That costs O(gallery size), at about 2,000 faces/s measured
at 512-D, which is fine for the galleries Lite is for.

On a Milvus cluster, erase deletes by id, flushes, then runs L0 compaction (folding the deletes into
the segments' deltalogs) and a forced mix compaction. A manual compaction makes every flushed segment
a candidate and rewrites the segments that hold deletes without those rows, with new index files.
It waits up to ``compact_wait_s`` for both. The old insert binlogs, deltalogs and index files are
then only marked dropped. The data coordinator's garbage collector deletes them from object storage
on its first pass (every ``dataCoord.gc.interval``, 3600 s) after ``dataCoord.gc.dropTolerance``
(10800 s) has passed. With default settings the bytes are physically gone 3-4 hours after the call
returns, and the face is unsearchable at once. Without a manual compaction, a segment is rewritten
only once 20% of its rows are deleted (``dataCoord.compaction.single.ratio.threshold``) or its
deltalogs grow past their size or count limits. Copies outside the collection's files follow their
own rules: the insert message in the WAL or message queue (Woodpecker, Pulsar or Kafka) lasts until
that log's retention truncates it; object store versioning, replication and backups keep theirs;
query nodes' local caches (mmap and DiskANN files) go when the old segment is released.
``?erase=rewrite`` forces the rewrite on a cluster too, but dropped collections go through the same
GC there, so it is no faster.

Milvus keeps vectors unencrypted: encryption at rest for it is the object store's (SSE/KMS), not
faceprint's key. Limits: a collection dropped behind faceprint's back while the marker says "up
to date" is noticed only when a search fails on it (it is then rebuilt). A gallery deleted while
Milvus is down leaves its collection behind (the store delete has already happened), to be dropped
by hand (``faceprint_<token>*``).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import sha256

import numpy as np

from ..errors import GalleryError, IndexUnavailable, InvalidFacesetToken
from .index.base import Hits, as_queries
from .indexes import IndexContext, Indexes, register_indexes
from .indexing import IndexPolicy
from .milvus_config import MilvusAddress, MilvusPlan, candidates, parse_address, plan_for, resolve_spec, search_params, spec_from_code
from .store.base import IndexState, Marker, Store, VectorSource
from .types import FaceSet

try:
    import grpc
    from pymilvus import DataType, MilvusClient
    from pymilvus.client.types import Status
    from pymilvus.exceptions import MilvusException
except ImportError:  # pragma: no cover - the scale extra is not installed
    MilvusClient = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

MARKER = "milvus"
PREFIX = "faceprint_"
ID, VECTOR = "id", "vector"
WRITE_BYTES = 8 << 20  # float32 bytes per insert/upsert request
DELETE_BATCH = 10_000
FLUSH_ROWS = 10_000  # a sync that writes this many rows seals them (a cluster seals growing segments itself)
LITE_FLUSH_ROWS = 1_000  # Lite scans unflushed rows in Python (~0.1 ms each at 512-D): flush after this many
COMPACT_WAIT_S = 120.0
COLLECTION_NOT_FOUND = 100  # Milvus's error code (cluster and Lite)


def alias_of(token: str) -> str:
    """``faceprint_<token>``; a token with characters a collection name cannot hold is hashed."""
    safe = token if re.fullmatch(r"[A-Za-z0-9]{1,64}", token) else "h" + sha256(token.encode()).hexdigest()[:40]
    return PREFIX + safe


def spec_of(name: str) -> str | None:
    """The spec a physical collection was built with, read from its name."""
    parts = name.split("__")
    return spec_from_code(parts[1]) if len(parts) == 3 and name.startswith(PREFIX) else None


def _empty() -> Hits:
    return Hits(np.zeros(0, np.int64), np.zeros(0, np.float32))


@dataclass(frozen=True)
class _Known:
    """What this process last saw of a gallery in Milvus."""

    faceset_id: int
    generation: int
    plan: MilvusPlan
    collection: str  # the physical collection the alias pointed at


class MilvusIndexes(Indexes):
    shared = True  # galleries' collections outlive the process: dropped before the store's rows

    def check_spec(self, spec: str, dim: int) -> None:
        super().check_spec(spec, dim)
        if spec != "auto":
            plan_for(spec, dim)

    def __init__(self, address: MilvusAddress, store: Store, policy: IndexPolicy, compact_wait_s: float = COMPACT_WAIT_S) -> None:
        if MilvusClient is None:
            raise GalleryError("the Milvus index needs pymilvus: pip install 'faceprint[scale]'")
        self.address = address
        self.store = store
        self.policy = policy
        self.compact_wait_s = compact_wait_s
        self._source: VectorSource = store.vector_source()
        self._client: MilvusClient | None = None
        self._lite = False
        self._lock = threading.Lock()
        self._known: dict[str, _Known] = {}
        self._unflushed: dict[str, int] = {}  # rows this process wrote to each collection since it flushed it

    # -- the connection ------------------------------------------------------------------------
    def client(self) -> MilvusClient:
        """The connection, opened on first use (so a node starts, and answers 503, while Milvus is down)."""
        with self._lock:
            if self._client is None:
                a = self.address
                client = MilvusClient(uri=a.uri, token=a.token, db_name=a.db_name, timeout=a.timeout, dedicated=True)
                self._lite = client.get_server_version(timeout=a.timeout).startswith("milvus_lite")
                self._client = client
            return self._client

    @property
    def erase_mode(self) -> str:
        self.client()
        return self.address.erase or ("rewrite" if self._lite else "compact")

    def _reset(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    @contextmanager
    def _talking(self, what: str) -> Iterator[None]:
        """Milvus and gRPC errors become faceprint errors with stable codes."""
        try:
            yield
        except MilvusException as exc:
            if exc.code == Status.CONNECT_FAILED or "DEADLINE_EXCEEDED" in exc.message or "UNAVAILABLE" in exc.message:
                self._reset()
                raise IndexUnavailable(f"Milvus at {self.address.uri} did not answer ({what}): {exc.message}", index=self.address.uri) from None
            raise GalleryError(f"Milvus refused {what}: {exc.message}", milvus_code=exc.code) from None
        except grpc.RpcError as exc:
            self._reset()
            raise IndexUnavailable(f"Milvus at {self.address.uri} did not answer ({what}): {exc}", index=self.address.uri) from None

    # -- catching up ---------------------------------------------------------------------------
    def sync(self, faceset: FaceSet, fresh: bool = False) -> None:
        with self._talking("sync"):
            self._sync(faceset)

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

    def current(self, token: str) -> str | None:
        """The physical collection the gallery's alias points at, or None."""
        client, alias = self.client(), alias_of(token)
        if not client.has_collection(alias, timeout=self.address.timeout):
            return None
        return str(client.describe_alias(alias, timeout=self.address.timeout)["collection_name"])

    def _catch_up(self, faceset: FaceSet, fid: int, marker: Marker, state: IndexState, current: str | None, rewrite: bool) -> _Known:
        have = spec_of(current) if current else None
        want = plan_for(resolve_spec(self.policy, faceset.index_spec, state.count, faceset.dim, have), faceset.dim)
        listed = 0 <= marker.generation and state.removed_floor <= marker.generation <= state.generation
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
            for rows in _rows(ids, vecs, dim):
                client.upsert(name, rows, timeout=t)
            written += len(ids)
        gone = self.store.removed_since(fid, since, upto=upto)
        for i in range(0, len(gone), DELETE_BATCH):
            client.delete(name, ids=gone[i : i + DELETE_BATCH].tolist(), timeout=t)
        pending = self._unflushed.get(name, 0) + written
        if written >= FLUSH_ROWS or (self._lite and pending >= LITE_FLUSH_ROWS):
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
            for rows in _rows(ids, vecs, faceset.dim):
                client.insert(name, rows, timeout=t)  # a fresh collection: insert cannot duplicate an id
            n += len(ids)
        client.flush(name, timeout=t)
        if client.has_collection(alias, timeout=t):
            client.alter_alias(name, alias, timeout=t)
        else:
            client.create_alias(name, alias, timeout=t)
        self._drop_others(alias, keep=name)
        log.info("Milvus: gallery %s rebuilt as %s (%s, %d faces)", faceset.token, name, plan.spec, n)
        return name

    def create_collection(self, name: str, dim: int, plan: MilvusPlan) -> None:
        client = self.client()
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False, description="faceprint gallery")
        schema.add_field(ID, DataType.INT64, is_primary=True)
        schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dim)
        index = client.prepare_index_params()
        index.add_index(field_name=VECTOR, index_type=plan.index_type, metric_type="IP", params=dict(plan.params))
        client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong", timeout=self.address.write_timeout)

    def _drop_others(self, alias: str, keep: str | None) -> None:
        """Drop the gallery's physical collections other than ``keep`` (the old one, or a crashed rebuild's)."""
        client = self.client()
        for name in client.list_collections(timeout=self.address.timeout):
            if name.startswith(alias + "__") and name != keep:
                client.drop_collection(name, timeout=self.address.write_timeout)

    # -- erasure -------------------------------------------------------------------------------
    def erase(self, faceset: FaceSet) -> None:
        """Delete by id, then make the bytes go: a rewrite on Lite, flush + compaction elsewhere."""
        with self._talking("erase"):
            if self.erase_mode == "rewrite":
                self._sync(faceset, rewrite=True)
                return
            known = self._sync(faceset, force=True)
            self.compact(known.collection)

    def compact(self, name: str) -> bool:
        """Flush, L0 compaction, forced mix compaction; True if both finished within ``compact_wait_s``."""
        client, t = self.client(), self.address.write_timeout
        client.flush(name, timeout=t)
        done = True
        for l0 in (True, False):
            try:
                job = client.compact(name, is_l0=l0, timeout=t)
            except MilvusException as exc:
                if l0:  # a server without L0 segments (before 2.4): deletes already sit in deltalogs
                    log.info("Milvus: no L0 compaction for %s (%s)", name, exc.message)
                    continue
                raise
            done = self._wait_compaction(job) and done
        return done

    def _wait_compaction(self, job: int) -> bool:
        end = time.monotonic() + self.compact_wait_s
        while True:
            state = str(self.client().get_compaction_state(job, timeout=self.address.timeout))
            if state.endswith("Completed"):
                return True
            if time.monotonic() > end:
                log.warning("Milvus compaction %s still %s after %.0fs; it finishes in the background", job, state, self.compact_wait_s)
                return False
            time.sleep(0.5)

    def drop(self, token: str) -> None:
        """The gallery was deleted: drop its alias and every collection of it."""
        self._known.pop(token, None)
        with self._talking("drop"):
            client, alias = self.client(), alias_of(token)
            if client.has_collection(alias, timeout=self.address.timeout):
                client.drop_alias(alias, timeout=self.address.write_timeout)
            self._drop_others(alias, keep=None)

    # -- search --------------------------------------------------------------------------------
    def search(self, faceset: FaceSet, queries: np.ndarray, k: int) -> list[Hits]:
        q = as_queries(queries, faceset.dim)
        if k <= 0 or not len(q):
            return [_empty() for _ in range(len(q))]
        with self._talking("search"):
            known = self._sync(faceset)
            try:
                return self._search(faceset, known.plan, q, k)
            except MilvusException as exc:
                if exc.code != COLLECTION_NOT_FOUND:
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

    def count(self, faceset: FaceSet) -> int:
        """Entities Milvus holds for the gallery (a strong ``count(*)``; for checks and benchmarks)."""
        with self._talking("count"):
            rows = self.client().query(
                alias_of(faceset.token), filter="", output_fields=["count(*)"], consistency_level="Strong",
                timeout=self.address.timeout,
            )  # fmt: skip
            return int(rows[0]["count(*)"])

    def close(self) -> None:
        self._reset()
        self._known.clear()


def rerank(source: VectorSource, q: np.ndarray, cands: list[Hits], k: int) -> list[Hits]:
    """Exact cosines from the store's float32 vectors for each query's candidates; best ``k`` kept."""
    want = np.unique(np.concatenate([h.ids for h in cands])) if cands else np.zeros(0, np.int64)
    ids, vecs = source.fetch(want) if len(want) else (want, np.zeros((0, q.shape[1]), np.float32))
    row = {int(i): r for r, i in enumerate(ids)}
    out = []
    for qi, h in enumerate(cands):
        rows = np.fromiter((row.get(int(i), -1) for i in h.ids), np.int64, len(h))
        rows = rows[rows >= 0]
        exact = vecs[rows] @ q[qi] if len(rows) else np.zeros(0, np.float32)
        top = np.argsort(-exact, kind="stable")[:k]
        out.append(Hits(ids[rows[top]].astype(np.int64), exact[top].astype(np.float32)))
    return out


def _rows(ids: np.ndarray, vecs: np.ndarray, dim: int) -> Iterator[list[dict]]:
    step = max(1, WRITE_BYTES // (4 * dim))
    for a in range(0, len(ids), step):
        yield [{ID: i, VECTOR: v} for i, v in zip(ids[a : a + step].tolist(), vecs[a : a + step])]


def _open(url: str, ctx: IndexContext) -> MilvusIndexes:
    if ctx.cipher.enabled:
        log.warning("the store is encrypted, but Milvus holds vectors unencrypted: use the object store's encryption")
    return MilvusIndexes(parse_address(url), ctx.store, ctx.policy)  # type: ignore[arg-type]


register_indexes("milvus", _open)
register_indexes("milvus+https", _open)
