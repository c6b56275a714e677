"""Store round trips and transactions per HTTP addface and per HTTP search: today's code against
commit 25ba2f8 (run from a git archive of it, in the same run, on the same machine).

Protocol: for each tree, a child process serves the Face++ API in-process (Starlette's TestClient
over the real app, SQLite store in a fresh data directory) and traces every SQL statement sent to
the gallery store and the face-token database (faceprint.db, service.db; keys and audit excluded).
It detects obama.jpg, creates a faceset, then times ``--n`` single-token addface calls and ``--n``
searches by face token. Printed: statements, faceset reads (statements reading ``facesets``) and
write transactions per call, p50 latency, and the ratios after/before. JSON to bench/results/.

    PYTHONPATH=$PWD .venv/bin/python bench/store_trips.py --n 20
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = "25ba2f8da0bc5dd33ec79a181501707d3586b077"  # main before "one home" (a commit, so a fresh clone has it)

CHILD = r'''
import json, sqlite3, statistics, sys, time
from pathlib import Path
data, photo, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
counts = {"stmts": 0, "faceset_reads": 0, "tx": 0}
_connect = sqlite3.connect
def connect(path, *a, **k):
    c = _connect(path, *a, **k)
    if Path(str(path)).name in ("faceprint.db", "service.db"):
        def trace(sql):
            s = sql.strip().upper()
            counts["stmts"] += 1
            counts["faceset_reads"] += s.startswith("SELECT") and " FROM FACESETS" in s
            counts["tx"] += s.startswith("BEGIN IMMEDIATE")
        c.set_trace_callback(trace)
    return c
sqlite3.connect = connect
from fastapi.testclient import TestClient
from faceprint.service import ServiceConfig, create_app
from faceprint.service.keys import KeyStore
ks = KeyStore(data)
made = ks.create("bench", ("detect", "faceset:read", "faceset:write"), 1e6)
key = {"api_key": made[0].api_key, "api_secret": made[1]}
ks.close()
with TestClient(create_app(ServiceConfig.from_env(data_dir=data))) as c:
    img = {"image_file": ("p.jpg", photo.read_bytes(), "image/jpeg")}
    toks = [c.post("/facepp/v3/detect", data=key, files=img).json()["faces"][0]["face_token"] for _ in range(n + 1)]
    fst = c.post("/facepp/v3/faceset/create", data={**key, "outer_id": "b"}).json()["faceset_token"]
    c.post("/facepp/v3/faceset/addface", data={**key, "faceset_token": fst, "face_tokens": toks[0]})
    out = {}
    for name, call in (
        ("addface", lambda i: c.post("/facepp/v3/faceset/addface", data={**key, "faceset_token": fst, "face_tokens": toks[i + 1]})),
        ("search", lambda i: c.post("/facepp/v3/search", data={**key, "faceset_token": fst, "face_token": toks[0]})),
    ):
        call(0) if name == "search" else None  # warm
        for k in counts: counts[k] = 0
        times = []
        for i in range(n):
            t = time.perf_counter(); r = call(i); times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
        out[name] = {k: v / n for k, v in counts.items()} | {"p50_ms": 1000 * statistics.median(times)}
print(json.dumps(out))
'''


def run(tree: Path, n: int) -> dict:
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        photo = ROOT / ".test-assets" / "obama.jpg"
        p = subprocess.run([sys.executable, "-c", CHILD, data, str(photo), str(n)], cwd=tree, env=env, capture_output=True, text=True, check=False)
        if p.returncode:
            raise SystemExit(p.stderr[-3000:])
        return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2, help="before/after runs, alternated; the lower p50 of each is kept")
    args = ap.parse_args()
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        blob = subprocess.run(["git", "archive", BASE, "faceprint"], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            tar.extractall(tmp, filter="data")
        for _ in range(args.rounds):  # alternated, so a busy spell on a shared machine hits both sides
            runs["before"].append(run(Path(tmp), args.n))
            runs["after"].append(run(ROOT, args.n))
    before, after = (
        {op: min((r[op] for r in runs[side]), key=lambda m: m["p50_ms"]) for op in ("addface", "search")} for side in ("before", "after")
    )
    print(f"protocol: store_trips, in-process HTTP, SQLite store, n={args.n} calls each, best p50 of {args.rounds} alternated rounds;"
          f" before = {BASE}")
    for op in ("addface", "search"):
        b, a = before[op], after[op]
        print(f"{op:8s} statements {b['stmts']:5.1f} -> {a['stmts']:5.1f}   faceset reads {b['faceset_reads']:4.1f} -> {a['faceset_reads']:4.1f}"
              f"   write tx {b['tx']:4.1f} -> {a['tx']:4.1f}   p50 {b['p50_ms']:7.1f} -> {a['p50_ms']:7.1f} ms (ratio {a['p50_ms'] / b['p50_ms']:.2f})")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "store_trips.json").write_text(json.dumps({"protocol": "store_trips", "n": args.n, "rounds": runs, "base": BASE, "before": before, "after": after}, indent=2))


if __name__ == "__main__":
    main()
