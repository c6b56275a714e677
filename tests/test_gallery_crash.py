"""kill -9 a real enrolling process: nothing acknowledged is lost and the index agrees with the store."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from faceprint.gallery import IndexPolicy
from gallery_support import batch_vectors, service, synthetic_gallery

HERE = Path(__file__).resolve().parent
SEED, BATCH, DIM = 11, 25, 64
# small sizes so the child crosses into IVF (a background rebuild) and writes snapshots as it goes
POLICY = dict(exact_limit=1000, save_every=200)

CHILD = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from pathlib import Path
from gallery_support import batch_vectors, faces, service
from faceprint.gallery import IndexPolicy
svc = service(Path(sys.argv[1]), policy=IndexPolicy(**{POLICY!r}))
for b in range(100000):
    recs = svc.add_embeddings("g", faces(batch_vectors({SEED}, b, {BATCH}, {DIM}), start=b * {BATCH}))
    print(b, *[r.token for r in recs], flush=True)  # acknowledged: add_embeddings has returned
"""


def test_kill_9_mid_enrolment_loses_nothing_acknowledged(tmp_path):
    data = tmp_path / "data"
    with service(data) as svc:
        synthetic_gallery(svc, "g", dim=DIM)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data)], stdout=subprocess.PIPE, text=True)
    acked: dict[int, list[str]] = {}
    try:
        for line in child.stdout:
            b, *tokens = line.split()
            acked[int(b)] = tokens
            if len(acked) >= 70:  # 1750 faces: past the switch to IVF and several snapshots
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL and len(acked) >= 70

    svc = service(data, policy=IndexPolicy(**POLICY))
    fs = svc.get("g")
    assert fs.face_count >= len(acked) * BATCH  # acknowledged writes all survived (maybe one more batch)
    for tokens in acked.values():
        for t in tokens:
            assert svc.face(t).faceset_token == fs.token
    live = svc.indexes.live(fs)
    assert live.index.ntotal == svc.get("g").face_count  # the index agrees with the store on open
    assert live.generation == svc.store.index_state(live.faceset_id).generation
    probes = np.concatenate([batch_vectors(SEED, b, BATCH, DIM)[:2] for b in sorted(acked)])
    want = [t for b in sorted(acked) for t in acked[b][:2]]
    got = [r.best.face_token for r in svc.search_embeddings("g", probes)]
    assert got == want
    svc.indexes.wait()
    svc.close()
