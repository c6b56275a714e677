"""Erasure that really erases: after removal no file in the data directory holds the embedding."""

import numpy as np
import pytest

from faceprint.index.faiss import snapshot
from faceprint.index.faiss.base import make_index
from gallery_support import all_files, faces, service, synthetic_gallery, unit

IVF = "IVF8,PQ16x4fs,Refine"
KEY = bytes(range(32))


def traces(root, vec):
    """Files holding the vector's float32 bytes, any 16-byte piece of them, or its float16 bytes."""
    f32 = vec.astype("<f4").tobytes()
    needles = [f32, vec.astype("<f2").tobytes()] + [f32[i : i + 16] for i in range(0, len(f32), 16)]
    return sorted({p.name for p in all_files(root) for n in needles if n in p.read_bytes()})


def snapshot_count(root, token, svc):
    """How many PQ codes the gallery's index file holds."""
    meta, data = snapshot.read(root / "index" / token, svc.cipher, token.encode())
    index = make_index(meta.spec, 64, None)
    index.load_bytes(data)
    return index.ntotal


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "encrypted"])
def test_removal_leaves_no_bytes_of_the_embedding(tmp_path, key):
    data = tmp_path / "data"
    svc = service(data, key=key)
    reader = service(data, key=key)  # another instance holding its own connection and index
    x = unit(np.random.default_rng(5), 2700, 64)
    tokens = {}
    for name, spec, part in (("flat", "auto", x[:300]), ("ivf", IVF, x[300:1500]), ("gone", IVF, x[1500:])):
        tokens[name] = synthetic_gallery(svc, name, spec=spec)
        recs = svc.add_embeddings(name, faces(part, subject_prefix=name))
        svc.indexes.save(svc.indexes.sync(svc.get(name)))
        tokens[name + "_faces"] = recs
    for name in ("flat", "ivf", "gone"):
        assert reader.search_embeddings(name, x[[0, 300, 1500]])[0]  # the reader has loaded all three
    victims = {"flat": 7, "ivf": 307, "gone": 1507}
    if key is None:
        for i in victims.values():
            assert set(traces(data, x[i])) <= {"faceprint.db", "faceprint.db-wal"} and traces(data, x[i])  # visible when there
    else:
        for i in victims.values():
            assert traces(data, x[i]) == []  # encrypted at rest: no plaintext even before removal
    codes = snapshot_count(data, tokens["ivf"], svc)

    svc.remove_faces("flat", [tokens["flat_faces"][7].token])
    svc.remove_subject("ivf", "ivf7")  # face 307
    assert svc.indexes.live(svc.get("ivf")).index.spec == IVF
    svc.delete("gone")

    for i in victims.values():
        assert traces(data, x[i]) == [], f"embedding {i} survives"
    assert not (data / "index" / tokens["gone"]).exists()
    assert snapshot_count(data, tokens["ivf"], svc) == codes - 1 == 1199  # its PQ code went too
    assert not any(p.name.endswith("-wal") and p.stat().st_size for p in all_files(data))
    # the other instance catches up and never returns an erased face
    got = reader.search_embeddings(["flat", "ivf"], x[[7, 307]])
    erased = {tokens["flat_faces"][7].token, tokens["ivf_faces"][7].token}
    assert not {m.face_token for r in got for m in r.matches} & erased
    reader.close()
    svc.close()
    for i in victims.values():
        assert traces(data, x[i]) == []  # closing (and re-snapshotting) brings nothing back

    again = service(data, key=key)  # after a restart, search still works (encrypted too)
    assert again.search_embeddings("ivf", x[301:302])[0].best.face_token == tokens["ivf_faces"][1].token
    again.close()
