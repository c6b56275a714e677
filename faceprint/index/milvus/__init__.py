"""The ``milvus`` index backend, ``--index milvus://host:19530``: galleries' vectors in Milvus, shared by any number of API nodes.

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

