"""What one search runs, counted rather than timed: today's code against the pre-one-home commit
that bench/store_trips.py compares with (a git archive of it, in the same run).

Protocol "search_calls": for each tree a child process runs ``--n`` searches and counts, per search,
Python function calls (cProfile), SQL statements and faceset reads (every SQLite connection
traced), and hops to a worker thread. Two public paths: HTTP ``/facepp/v3/search`` by face token
(the ASGI app on one event loop through httpx.ASGITransport, ``anyio.to_thread.run_sync`` run
inline so that the profile sees every call), and the library's ``GalleryService.search`` with an
embedded Face. Counts do not depend on how loaded the machine is; the ratios are after/before.

    PYTHONPATH=$PWD .venv/bin/python bench/search_calls.py --n 20
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

from store_trips import BASE

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import asyncio, cProfile, json, pstats, sqlite3, sys
from pathlib import Path
import anyio.to_thread
data, photo, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
sql, hops = [], []
_connect = sqlite3.connect
def connect(*a, **k):
    c = _connect(*a, **k)
    c.set_trace_callback(sql.append)
    return c
sqlite3.connect = connect
async def inline(func, *args, **kw):
    hops.append(1)
    return func(*args)
anyio.to_thread.run_sync = inline
def counted(prof):
    reads = sum(s.lstrip().upper().startswith("SELECT") and " FROM FACESETS" in s.upper() for s in sql)
    return {"calls": pstats.Stats(prof).total_calls / n, "statements": len(sql) / n, "faceset_reads": reads / n, "thread_hops": len(hops) / n}
def measure(call):
    call()
    sql.clear(); hops.clear()
    prof = cProfile.Profile(); prof.enable()
    for _ in range(n):
        call()
    prof.disable()
    return counted(prof)
import httpx
from faceprint import FaceEngine
from faceprint.gallery import GalleryConfig, GalleryService
from faceprint.service import ServiceConfig, create_app
from faceprint.service.keys import KeyStore
ks = KeyStore(data / "http")
made = ks.create("bench", ("detect", "faceset:read", "faceset:write"), 1e6)
key = {"api_key": made[0].api_key, "api_secret": made[1]}
ks.close()
out = {}
async def http():
    app = create_app(ServiceConfig.from_env(data_dir=data / "http"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
            img = {"image_file": ("p.jpg", photo.read_bytes(), "image/jpeg")}
            toks = [(await c.post("/facepp/v3/detect", data=key, files=img)).json()["faces"][0]["face_token"] for _ in range(3)]
            fst = (await c.post("/facepp/v3/faceset/create", data={**key, "outer_id": "b"})).json()["faceset_token"]
            await c.post("/facepp/v3/faceset/addface", data={**key, "faceset_token": fst, "face_tokens": ",".join(toks)})
            async def search():
                r = await c.post("/facepp/v3/search", data={**key, "faceset_token": fst, "face_token": toks[0]})
                assert r.status_code == 200, r.text
            await search()
            sql.clear(); hops.clear()
            prof = cProfile.Profile(); prof.enable()
            for _ in range(n):
                await search()
            prof.disable()
            out["http_search"] = counted(prof)
asyncio.run(http())
engine = FaceEngine("arcface-s")
probe = engine.embed(photo)[0]
with GalleryService(GalleryConfig(data_dir=data / "lib"), engine=engine) as svc:
    svc.create("g")
    (svc.enroll if hasattr(svc, "enroll") else svc.enrol)("g", [photo], "obama")
    out["library_search"] = measure(lambda: svc.search("g", probe))
print(json.dumps(out))
'''


def run(tree: Path, n: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
        photo = ROOT / ".test-assets" / "obama.jpg"
        p = subprocess.run([sys.executable, "-c", CHILD, data, str(photo), str(n)], cwd=tree, env=env, capture_output=True, text=True, check=False)
        if p.returncode:
            raise SystemExit(p.stderr[-3000:])
        result: dict[str, dict[str, float]] = json.loads(p.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="searches counted on each path")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        blob = subprocess.run(["git", "archive", BASE, "faceprint"], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            tar.extractall(tmp, filter="data")
        before = run(Path(tmp), args.n)
    after = run(ROOT, args.n)
    print(f"protocol: search_calls, per search, n={args.n}; before = {BASE}")
    for path in ("http_search", "library_search"):
        b, a = before[path], after[path]
        print(f"{path:15s} " + "   ".join(f"{k} {b[k]:7.1f} -> {a[k]:7.1f} ({a[k] / b[k]:.2f}x)" if b[k] else f"{k} {b[k]:.1f} -> {a[k]:.1f}" for k in b))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "search_calls.json").write_text(json.dumps({"protocol": "search_calls", "n": args.n, "base": BASE, "before": before, "after": after}, indent=2))


if __name__ == "__main__":
    main()
