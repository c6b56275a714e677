"""Erasure in PostgreSQL: which steps remove a deleted template's bytes from the cluster's files, and at what cost.

    python bench/pg_erasure.py [--sizes 1k,10k,100k]     (a throwaway PostgreSQL cluster on loopback)

1. Steps. 60 random 512-d float32 templates (2 KiB, three rows to a heap page) in a plain table;
   three kinds of victim: the row at the top of its page (rows below it shift up when the page is
   compacted), the row lowest on its page (nothing shifts over it), and every row of one page.
   After each step (and a CHECKPOINT, so the files show what the server holds) it records whether
   any file under base/ and whether any file under pg_wal/ still holds each victim's bytes.
2. Cost. The store's own removal (``PostgresStore.remove_faces`` of one face: DELETE, commit,
   ``VACUUM FULL`` of the gallery's vector table) in galleries of each size.

Writes bench/results/pg_erasure.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from backends.postgres import fresh_database, postgres_server  # noqa: E402
from faceprint.gallery import NewFace, NewFaceSet  # noqa: E402
from faceprint.gallery.store.postgres import PostgresStore  # noqa: E402

DIM = 512
OUT = ROOT / "bench" / "results" / "pg_erasure.json"


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def where(data: Path, vec: np.ndarray) -> str:
    """"base", "wal", "base+wal" or "-": which part of the cluster still holds the template's bytes."""
    needle = vec.astype("<f4").tobytes()[:64]
    found = set()
    for part in ("base", "pg_wal"):
        for root, _, files in os.walk(data / part):
            for name in files:
                try:
                    if needle in Path(root, name).read_bytes():
                        found.add("wal" if part == "pg_wal" else "base")
                except OSError:
                    continue
    return "+".join(sorted(found)) or "-"


def steps(admin: str, data: Path, recycle: str) -> list[dict[str, object]]:
    db = fresh_database(admin)
    x = unit(np.random.default_rng(int.from_bytes(os.urandom(4), "little")), 60)
    c = psycopg.connect(db, autocommit=True)
    c.execute("CREATE TABLE t(id int PRIMARY KEY, v bytea NOT NULL)")
    c.execute("ALTER TABLE t ALTER COLUMN v SET STORAGE PLAIN")
    with c.cursor() as cur:
        cur.executemany("INSERT INTO t VALUES (%s, %s)", [(i, v.tobytes()) for i, v in enumerate(x)])
    page: dict[int, list[int]] = {}
    for i, ctid in c.execute("SELECT id, ctid::text FROM t ORDER BY ctid").fetchall():
        page.setdefault(int(ctid.strip("()").split(",")[0]), []).append(i)
    victims = {"top of its page": page[2][0], "lowest on its page": page[4][-1]}
    victims.update({f"emptied page, row {k}": i for k, i in enumerate(page[6])})
    rows = []

    def record(step: str) -> None:
        c.execute("CHECKPOINT")
        rows.append({"step": step, **{k: where(data, x[i]) for k, i in victims.items()}})
        print(f"{step:58s}", {k: rows[-1][k] for k in victims}, flush=True)

    record("INSERT")
    c.execute("DELETE FROM t WHERE id = ANY(%s)", (list(victims.values()),))
    record("DELETE")
    c.execute("VACUUM t")
    record("VACUUM")
    c.execute("VACUUM t")
    record("VACUUM again")
    c.execute("VACUUM FULL t")
    record("VACUUM FULL")
    c.execute(f"ALTER SYSTEM SET wal_recycle = {recycle}")
    c.execute("SELECT pg_reload_conf()")
    time.sleep(0.2)  # the checkpointer rereads its configuration
    for k in (1, 2, 3):
        c.execute("SELECT pg_switch_wal()")
        record(f"wal_recycle={recycle}: pg_switch_wal(), CHECKPOINT (x{k})")
    c.execute("ALTER SYSTEM RESET wal_recycle")
    c.execute("SELECT pg_reload_conf()")
    c.close()
    return rows


def cost(admin: str, sizes: list[int]) -> list[dict[str, float]]:
    out = []
    for n in sizes:
        st = PostgresStore(fresh_database(admin))
        fs = st.create_faceset(NewFaceSet(pack="synthetic", dim=DIM, outer_id="g"))
        rng = np.random.default_rng(n)
        recs = []
        for start in range(0, n, 10_000):
            recs += st.add_faces("default", fs.token, [NewFace(v) for v in unit(rng, min(10_000, n - start))])
        times = []
        for r in recs[:3]:
            t0 = time.perf_counter()
            st.remove_faces("default", fs.token, [r.token])
            times.append(time.perf_counter() - t0)
        out.append({"faces": n, "remove_one_s": float(np.median(times))})
        print(f"{n:>8} faces: remove one face (with its table's rewrite) {np.median(times):.3f} s", flush=True)
        st.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1k,10k,100k")
    args = ap.parse_args()
    sizes = [int(float(s.lower().replace("k", "e3").replace("m", "e6"))) for s in args.sizes.split(",")]
    with postgres_server() as (admin, data):
        with psycopg.connect(admin, autocommit=True) as c:
            server = {k: c.execute(f"SHOW {k}").fetchone()[0] for k in ("server_version", "fsync", "full_page_writes", "min_wal_size")}
        result = {
            "server": server,
            "steps": {r: steps(admin, data, r) for r in ("on", "off")},  # wal_recycle: on is the default
            "cost": cost(admin, sizes),
        }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
