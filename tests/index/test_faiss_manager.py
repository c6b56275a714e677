"""The index follows the store: across service instances, after crashes, and across a size change."""

import threading

import numpy as np

from faceprint.gallery import IndexPolicy
from faceprint.index.faiss import snapshot
from gallery_support import faces, service, synthetic_gallery, unit

IVF = "IVF8,PQ16x4fs,Refine"  # trains from 1,000 vectors at 64-D


def top1(svc, name, vecs):
    return [r.best.face_token if r.best else None for r in svc.search_embeddings(name, vecs)]


def test_another_instance_sees_writes_and_removals(tmp_path):
    a, b = service(tmp_path), service(tmp_path)
    synthetic_gallery(a, "g")
    x = unit(np.random.default_rng(0), 40, 64)
    recs = a.add_embeddings("g", faces(x[:20]))
    assert top1(b, "g", x[:20]) == [r.token for r in recs]  # b loads
    more = a.add_embeddings("g", faces(x[20:]))
    assert top1(b, "g", x[20:]) == [r.token for r in more]  # b catches up by generation
    a.remove_faces("g", [recs[0].token])
    assert top1(b, "g", x[:1]) != [recs[0].token]
    a.close()
    b.close()


def test_snapshot_is_used_when_current_and_rebuilt_when_stale_or_broken(tmp_path):
    svc = service(tmp_path)
    token = synthetic_gallery(svc, "g", spec=IVF)
    x = unit(np.random.default_rng(1), 1500, 64)
    recs = svc.add_embeddings("g", faces(x[:1200]))
    svc.close()  # writes the snapshot
    folder = tmp_path / "index" / token
    meta, _ = snapshot.read(folder, svc.cipher, token.encode())
    assert meta.spec == IVF and meta.count == 1200

    svc = service(tmp_path)
    live = svc.indexes.live(svc.get("g"))
    assert live.saved_generation == meta.generation and live.index.ntotal == 1200  # loaded, not rebuilt
    recs += svc.add_embeddings("g", faces(x[1200:]))  # then "crash": no close, no new snapshot
    del svc

    svc = service(tmp_path)  # stale by generation: caught up from the store
    live = svc.indexes.live(svc.get("g"))
    assert live.saved_generation == meta.generation and live.index.ntotal == 1500
    assert top1(svc, "g", x[::100]) == [r.token for r in recs[::100]]
    svc.close()

    (folder / snapshot.read(folder, svc.cipher, token.encode())[0].file).write_bytes(b"garbage")
    svc = service(tmp_path)  # unreadable: rebuilt from the store
    live = svc.indexes.live(svc.get("g"))
    assert live.saved_generation == -1 and live.index.ntotal == 1500
    assert top1(svc, "g", x[::100]) == [r.token for r in recs[::100]]
    svc.close()


def test_auto_switches_to_ivf_in_the_background_while_search_goes_on(tmp_path):
    svc = service(tmp_path, policy=IndexPolicy(exact_limit=1000))
    synthetic_gallery(svc, "g")
    x = unit(np.random.default_rng(2), 2000, 64)
    first = svc.add_embeddings("g", faces(x[:800]))
    live = svc.indexes.live(svc.get("g"))
    assert live.index.spec == "Flat"

    errors, seen = [], []

    def searcher():
        try:
            while not stop.is_set():
                seen.append(top1(svc, "g", x[:5]) == [r.token for r in first[:5]])
        except Exception as exc:
            errors.append(exc)

    stop = threading.Event()
    threads = [threading.Thread(target=searcher) for _ in range(2)]
    for t in threads:
        t.start()
    late = []
    for i in range(800, 2000, 100):
        late += svc.add_embeddings("g", faces(x[i : i + 100], start=i))
    svc.indexes.wait()
    stop.set()
    for t in threads:
        t.join()
    assert not errors and seen and all(seen)
    assert live.index.spec.startswith("IVF") and live.index.ntotal == 2000
    assert top1(svc, "g", x[800::100]) == [r.token for r in late[::100]]
    svc.close()
