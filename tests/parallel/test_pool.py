"""The worker pool on real photos: same templates as one engine, errors and crashes kept to their item, nothing left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from faceprint.engine import EngineConfig, FaceEngine
from faceprint.errors import FaceprintError
from faceprint.parallel import EnginePool, PoolConfig, WorkerCrashed
from faceprint.parallel.batch import embed_one

from .support import embed_or_die, mixed_photos, pid_of, slow_embed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pool() -> Iterator[EnginePool]:
    with EnginePool(PoolConfig(workers=2)) as p:
        yield p


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
    except FileNotFoundError:
        return False


def test_pool_templates_agree_with_one_engine(pool: EnginePool) -> None:
    photos = mixed_photos()
    single = FaceEngine(config=EngineConfig(threads=1))
    pooled = [o.get() for o in pool.map(embed_one, [str(p) for p in photos])]
    assert sum(len(f) for f in pooled) > len(photos)  # the group photos hold several faces
    for path, got in zip(photos, pooled, strict=True):
        want = single.embed(path)
        assert len(got) == len(want), path
        for g, w in zip(got, want, strict=True):
            assert g.embedding is not None and w.embedding is not None
            assert float(np.dot(g.embedding, w.embedding)) >= 0.99999, path
            np.testing.assert_allclose(g.bbox, w.bbox, atol=0.5)


def test_results_come_in_input_order_from_both_workers(pool: EnginePool) -> None:
    pids = [o.get() for o in pool.map(pid_of, range(40))]
    assert set(pids) == {i.pid for i in pool.infos} and len(set(pids)) == 2


def test_a_bad_item_fails_alone_with_its_code(pool: EnginePool, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    photo = str(mixed_photos()[0])
    out = list(pool.map(embed_one, [photo, str(tmp_path / "missing.jpg"), str(junk), photo]))
    assert [o.error.code if o.error else "ok" for o in out] == ["ok", "IMAGE_ERROR_FILE_NOT_FOUND", "IMAGE_ERROR_UNSUPPORTED_FORMAT", "ok"]
    assert isinstance(out[1].error, FaceprintError) and "missing.jpg" in out[1].error.message
    with pytest.raises(FaceprintError) as err:
        out[2].get()
    assert err.value.code == "IMAGE_ERROR_UNSUPPORTED_FORMAT"


def test_workers_count_their_model_memory(pool: EnginePool) -> None:
    for info in pool.infos:
        assert info.threads == 1
        assert 10 < info.model_mb < info.rss_mb
    assert all(r > 0 for r in pool.rss_mb())


def test_a_crashed_worker_fails_only_its_item_and_is_replaced() -> None:
    photo = str(mixed_photos()[0])
    with EnginePool(PoolConfig(workers=2, depth=2)) as p:  # two ahead: the item queued behind the crash goes to a live worker
        before = {i.pid for i in p.infos}
        out = list(p.map(embed_or_die, [photo, photo, "die", photo, photo, photo]))
        assert [o.error.code if o.error else "ok" for o in out] == ["ok", "ok", WorkerCrashed.code, "ok", "ok", "ok"]
        assert p.crashes == 1 and len(p.infos) == 2
        after = {i.pid for i in p.infos}
        assert len(before - after) == 1 and all(_alive(pid) for pid in after)
        assert len(list(p.map(embed_one, [photo] * 4))) == 4  # the replacement serves
    assert not any(_alive(pid) for pid in before | after)


def test_closing_leaves_no_process_and_a_closed_pool_says_so() -> None:
    p = EnginePool(PoolConfig(workers=2))
    pids = [i.pid for i in p.infos]
    p.close()
    assert not any(_alive(pid) for pid in pids)
    with pytest.raises(FaceprintError) as err:
        list(p.map(embed_one, ["x"]))
    assert err.value.code == "WORKER_POOL_CLOSED"


def test_a_consumer_that_stops_early_leaves_the_pool_usable(pool: EnginePool) -> None:
    photo = str(mixed_photos()[0])
    for _ in pool.map(slow_embed, [photo] * 8):
        break
    assert [len(o.get()) for o in pool.map(embed_one, [photo, photo])] == [1, 1]


def test_an_unknown_pack_fails_the_pool_with_its_code() -> None:
    with pytest.raises(FaceprintError) as err:
        EnginePool(PoolConfig(workers=1, engine=EngineConfig(pack="no-such-pack")))
    assert err.value.code == "MODEL_NOT_FOUND" and "no-such-pack" in err.value.message


def test_ctrl_c_stops_every_worker(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import signal
        import sys
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's background job starts with SIGINT ignored
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from faceprint.parallel import EnginePool, PoolConfig
        from parallel.support import slow_embed
        if __name__ == "__main__":
            with EnginePool(PoolConfig(workers=2)) as pool:
                print(" ".join(str(i.pid) for i in pool.infos), flush=True)
                try:
                    for _ in pool.map(slow_embed, [{str(mixed_photos()[0])!r}] * 100):
                        pass
                except KeyboardInterrupt:
                    print("interrupted", flush=True)
                    raise SystemExit(130)
    """)
    path = tmp_path / "ctrl_c.py"
    path.write_text(script)
    proc = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130 and "interrupted" in rest
    assert len(pids) == 2 and not any(_alive(pid) for pid in pids)
