"""What the Milvus backend is told: the server's address, and how a gallery's spec becomes a Milvus index.

Address: ``milvus://host:port[/database][?timeout=S&write_timeout=S&erase=compact|rewrite]``, or
``milvus+https://`` for TLS. ``timeout`` bounds searches and metadata calls (default 10 s),
``write_timeout`` writes, flushes and compactions (default 120 s: Milvus Lite flushes inside the
insert call that fills its memtable). Credentials come from ``$FACEPRINT_MILVUS_TOKEN`` (``user:password`` or an API key), or from
the URL's user part (``milvus://user:password@host:19530``); prefer the variable, since URLs end up
in logs and process listings.

Specs are the FAISS-style strings every backend accepts (:mod:`faceprint.gallery.index`):

=================================  =========================================================
``Flat``                           ``FLAT``: exact inner product over every vector
``IVF{n}[_HNSW{M}],PQ{m}x4fs``     ``IVF_PQ`` with ``nlist=n``, ``m=m``, ``nbits=4`` (``m/2``
                                   bytes a face, as in FAISS); Milvus picks its own coarse
                                   quantizer, so ``_HNSW{M}`` changes nothing here
``...,Refine``                     the same, and the top ``k * refine_factor`` candidates are
                                   re-ranked exactly from the store's float32 vectors, so
                                   scores are exact cosines (Milvus has no refine for IVF_PQ)
``auto``                           ``Flat`` below ``IndexPolicy.exact_limit`` faces, else what
                                   the FAISS policy picks (``IVF{~sqrt n},PQ{D/8}x4fs,Refine``)
=================================  =========================================================

Search knobs come from :class:`~faceprint.gallery.indexing.IndexPolicy`: ``nprobe`` is
``params.nprobe`` if set, else ``nprobe_fraction`` of the lists.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import InvalidIndexSpec
from .indexing import IndexPolicy

TOKEN_ENV = "FACEPRINT_MILVUS_TOKEN"
DEFAULT_PORT = 19530
ERASE_MODES = ("compact", "rewrite")
MAX_TOPK = 16384  # Milvus's limit on results (and nprobe's range tops out at 65536)
_IVF = re.compile(r"IVF(?P<nlist>\d+)(?:_HNSW(?P<hnsw>\d+))?,PQ(?P<m>\d+)x4fs(?P<refine>,Refine)?\Z")
_CODE = re.compile(r"ivf(?P<nlist>\d+)(?:h(?P<hnsw>\d+))?pq(?P<m>\d+)(?P<refine>r)?\Z")


@dataclass(frozen=True)
class MilvusAddress:
    uri: str  # what pymilvus connects to: http(s)://host:port
    token: str = field(default="", repr=False)
    db_name: str = ""
    timeout: float = 10.0  # seconds per search or metadata call
    write_timeout: float = 120.0  # seconds per insert, upsert, delete, flush, compaction or DDL call
    erase: str | None = None  # None: "rewrite" on Milvus Lite, "compact" elsewhere (see the backend's doc)


def parse_address(url: str, environ: dict[str, str] | None = None) -> MilvusAddress:
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    scheme = {"milvus": "http", "milvus+https": "https"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise InvalidIndexSpec(f"a Milvus index URL is milvus://host:port or milvus+https://host:port; got {url!r}", index=url)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise InvalidIndexSpec(f"bad port in {url!r}", index=url) from None
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(query) - {"timeout", "write_timeout", "erase"}
    if unknown:
        raise InvalidIndexSpec(f"unknown Milvus URL options {sorted(unknown)}; known: timeout, write_timeout, erase", index=url)
    timeout = _seconds(query, "timeout", 10.0, url)
    write_timeout = _seconds(query, "write_timeout", 120.0, url)
    erase = query.get("erase")
    if erase is not None and erase not in ERASE_MODES:
        raise InvalidIndexSpec(f"erase must be one of {', '.join(ERASE_MODES)}; got {erase!r}", index=url)
    token = env.get(TOKEN_ENV, "")
    if not token and parts.username:
        token = unquote(parts.username) + (f":{unquote(parts.password)}" if parts.password is not None else "")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    db = parts.path.strip("/")
    if db and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", db):
        raise InvalidIndexSpec(f"bad Milvus database name {db!r}", index=url)
    return MilvusAddress(f"{scheme}://{host}:{port}", token, db, timeout, write_timeout, erase)


def _seconds(query: dict[str, str], key: str, default: float, url: str) -> float:
    try:
        value = float(query.get(key, default))
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise InvalidIndexSpec(f"{key} must be 0-3600 seconds; got {query[key]!r}", index=url)
    return value


@dataclass(frozen=True)
class MilvusPlan:
    """How one gallery's vectors are indexed in Milvus."""

    spec: str  # the faceprint spec it realises
    index_type: str  # FLAT or IVF_PQ
    params: dict[str, int] = field(default_factory=dict)
    refine: bool = False
    nlist: int = 0

    @property
    def code(self) -> str:
        """The spec in the characters a collection name allows (``flat``, ``ivf1024pq64r``)."""
        m = _IVF.match(self.spec)
        if m is None:
            return "flat"
        hnsw = f"h{m['hnsw']}" if m["hnsw"] else ""
        return f"ivf{m['nlist']}{hnsw}pq{m['m']}" + ("r" if m["refine"] else "")


def plan_for(spec: str, dim: int) -> MilvusPlan:
    """The Milvus index for a resolved spec (not ``auto``); InvalidIndexSpec for forms it cannot realise."""
    if spec == "Flat":
        return MilvusPlan("Flat", "FLAT")
    m = _IVF.match(spec)
    if m is None:
        raise InvalidIndexSpec(
            f"the Milvus backend realises Flat and IVF{{n}},PQ{{m}}x4fs[,Refine]; got {spec!r}", spec=spec
        )
    nlist, pq = int(m["nlist"]), int(m["m"])
    if not 1 <= nlist <= 65536:
        raise InvalidIndexSpec(f"Milvus takes 1-65536 IVF lists; got {nlist}", spec=spec)
    if pq < 1 or dim % pq:
        raise InvalidIndexSpec(f"PQ{pq} needs the dimension ({dim}) to be a multiple of {pq}", spec=spec)
    return MilvusPlan(spec, "IVF_PQ", {"nlist": nlist, "m": pq, "nbits": 4}, bool(m["refine"]), nlist)


def spec_from_code(code: str) -> str | None:
    """Inverse of :attr:`MilvusPlan.code`; None if ``code`` is not one."""
    if code == "flat":
        return "Flat"
    m = _CODE.match(code)
    if m is None:
        return None
    hnsw = f"_HNSW{m['hnsw']}" if m["hnsw"] else ""
    return f"IVF{m['nlist']}{hnsw},PQ{m['m']}x4fs" + (",Refine" if m["refine"] else "")


def resolve_spec(policy: IndexPolicy, requested: str, count: int, dim: int, current: str | None) -> str:
    """The spec a gallery of ``count`` faces should be indexed with, given the one it has.

    As the FAISS backend: ``auto`` turns IVF at ``exact_limit`` and goes back to exact only below
    half of it, and an IVF index is kept while its list count is within 4x of the ideal.
    """
    if requested != "auto":
        return requested
    want = policy.choose("auto", count, dim)
    if current is None or current == want or current == "Flat":
        return want
    if count < policy.exact_limit // 2:
        return "Flat"
    cur, ideal = _IVF.match(current), _IVF.match(want)
    if cur is None:
        return want
    if ideal is None:  # between half the limit and the limit: stay IVF
        return current
    return current if int(ideal["nlist"]) / 4 <= int(cur["nlist"]) <= int(ideal["nlist"]) * 4 else want


def search_params(plan: MilvusPlan, policy: IndexPolicy) -> dict[str, int]:
    if not plan.nlist:
        return {}
    nprobe = policy.params.nprobe or math.ceil(plan.nlist * policy.nprobe_fraction)
    return {"nprobe": max(1, min(nprobe, plan.nlist, 65536))}


def candidates(plan: MilvusPlan, policy: IndexPolicy, k: int) -> int:
    """How many results to ask Milvus for: ``k``, or the re-rank's candidate pool."""
    if plan.refine:
        k = max(k * policy.params.refine_factor, policy.params.min_refine)
    return min(k, MAX_TOPK)
