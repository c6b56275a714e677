"""Searching while enrolling, from several threads and from several processes."""

import subprocess
import sys
import threading
from pathlib import Path

from gallery_support import batch_vectors, faces, service, synthetic_gallery

HERE = Path(__file__).resolve().parent
SEED, BATCH, DIM, BATCHES = 23, 20, 64, 30

WRITER = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from pathlib import Path
from gallery_support import batch_vectors, faces, service
with service(Path(sys.argv[1])) as svc:
    for b in range(1, {BATCHES} + 1):
        svc.add_embeddings("g", faces(batch_vectors({SEED}, b, {BATCH}, {DIM}), subject_prefix=f"b{{b}}-"))
"""

SEARCHER = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from pathlib import Path
from gallery_support import batch_vectors, service
probes = batch_vectors({SEED}, 0, {BATCH}, {DIM})
n = 0
with service(Path(sys.argv[1])) as svc:
    while n < 40 or svc.get("g").face_count < {BATCH * (BATCHES + 1)}:
        got = [r.best.subject for r in svc.search_embeddings("g", probes)]
        assert got == [f"b0-{{i}}" for i in range({BATCH})], got
        n += 1
print("searched", n)
"""


def _seed_gallery(data):
    svc = service(data)
    synthetic_gallery(svc, "g", dim=DIM)
    svc.add_embeddings("g", faces(batch_vectors(SEED, 0, BATCH, DIM), subject_prefix="b0-"))
    return svc


def test_threads_search_while_one_enrols(tmp_path):
    svc = _seed_gallery(tmp_path)
    probes = batch_vectors(SEED, 0, BATCH, DIM)
    errors, counts, done = [], [], threading.Event()

    def searcher():
        n = 0
        try:
            while not done.is_set() or n < 5:
                got = [r.best.subject for r in svc.search_embeddings("g", probes[n % BATCH : n % BATCH + 1])]
                assert got == [f"b0-{n % BATCH}"], got
                n += 1
        except Exception as exc:
            errors.append(exc)
        counts.append(n)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    for b in range(1, BATCHES + 1):
        svc.add_embeddings("g", faces(batch_vectors(SEED, b, BATCH, DIM), subject_prefix=f"b{b}-"))
    done.set()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(counts) == 3 and min(counts) >= 5
    last = batch_vectors(SEED, BATCHES, BATCH, DIM)
    assert [r.best.subject for r in svc.search_embeddings("g", last)] == [f"b{BATCHES}-{i}" for i in range(BATCH)]
    svc.close()


def test_processes_search_while_another_enrols(tmp_path):
    svc = _seed_gallery(tmp_path)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)])
    searcher = subprocess.Popen([sys.executable, "-c", SEARCHER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    probes = batch_vectors(SEED, 0, BATCH, DIM)
    rounds = 0
    while writer.poll() is None or rounds < 5:  # this process searches too
        got = [r.best.subject for r in svc.search_embeddings("g", probes)]
        assert got == [f"b0-{i}" for i in range(BATCH)]
        rounds += 1
    out, _ = searcher.communicate(timeout=120)
    assert writer.returncode == 0 and searcher.returncode == 0, out
    assert svc.get("g").face_count == BATCH * (BATCHES + 1)
    last = batch_vectors(SEED, BATCHES, BATCH, DIM)  # written by the other process, found here
    assert [r.best.subject for r in svc.search_embeddings("g", last)] == [f"b{BATCHES}-{i}" for i in range(BATCH)]
    svc.close()
