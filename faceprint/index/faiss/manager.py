"""Keeps each gallery's in-memory index in step with the store, across threads and processes.

Every write goes to the store first; the index then *catches up* from the store by generation
(faces added after the index's generation, removals listed since). The same path serves this
process's own writes, other processes' writes, and a restart after ``kill -9``: on open, a snapshot
is used only if its generation and count agree with the store once caught up; otherwise the index
is rebuilt from the store. A search first checks the gallery's generation (one indexed read) and
catches up if another process wrote.

When a gallery's ``auto`` spec crosses one of :class:`~faceprint.index.policy.IndexPolicy`'s size
lines, a rebuild starts in a background thread; searches keep using the old index until the new
one has caught up and is swapped in.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...errors import FaceprintError, InvalidFacesetToken, InvalidIndexSpec
from ...gallery.locks import RWLock, file_lock
from ...gallery.store.base import IndexState
from ..backends import IndexContext, Indexes, register_indexes
from ..policy import IndexPolicy
from ..types import Hits
from . import snapshot
from .base import VectorIndex, make_index
from .flat import FlatIndex

if TYPE_CHECKING:
    from ...gallery.crypto import Cipher
    from ...gallery.store.base import Store
    from ...gallery.types import FaceSet

log = logging.getLogger(__name__)


class LiveIndex:
    """One gallery's index in this process, the generation it reflects, and its lock."""

    def __init__(self, faceset: FaceSet, faceset_id: int, index: VectorIndex, generation: int) -> None:
        self.faceset_id = faceset_id
        self.token = faceset.token
        self.requested = faceset.index_spec
        self.dim = faceset.dim
        self.index = index
        self.generation = generation
        self.saved_generation = -1
        self.unsaved = 0
        self.lock = RWLock()
        self.rebuilding: threading.Thread | None = None

    def twin(self, index: VectorIndex, generation: int) -> LiveIndex:
        """A private copy holding a new index, to catch up off-lock before it is swapped in."""
        other = LiveIndex.__new__(LiveIndex)
        other.__dict__.update(self.__dict__)
        other.index, other.generation, other.unsaved, other.lock, other.rebuilding = index, generation, 0, RWLock(), None
        return other


class IndexManager(Indexes):
    """The ``faiss`` backend: each gallery's index in this process, snapshotted under ``root``."""

    def __init__(self, store: Store, root: Path, cipher: Cipher, policy: IndexPolicy | None = None) -> None:
        self.store = store
        self.root = Path(root)
        self.cipher = cipher
        self.policy = policy or IndexPolicy()
        self._live: dict[str, LiveIndex] = {}
        self._lock = threading.Lock()
        self._source = store.vector_source()
        self._min_trains: dict[tuple[str, int], int] = {}

    def check_spec(self, spec: str, dim: int) -> None:
        """Refuse (INVALID_INDEX_SPEC) a spec FAISS could not build at this dimension."""
        if spec != "auto":
            make_index(spec, dim, None)

    def folder(self, token: str) -> Path:
        return self.root / token

    # -- opening ------------------------------------------------------------------------------
    def live(self, faceset: FaceSet) -> LiveIndex:
        with self._lock:
            live = self._live.get(faceset.token)
            if live is None:
                live = self._open(faceset)
                self._live[faceset.token] = live
        return live

    def _open(self, faceset: FaceSet) -> LiveIndex:
        fid = faceset.id if faceset.id >= 0 else self.store.faceset_id(faceset.tenant, faceset.token)
        state = self.store.index_state(fid)
        snap = snapshot.read(self.folder(faceset.token), self.cipher, faceset.token.encode())
        if snap is not None:
            meta, data = snap
            try:
                index = make_index(meta.spec, faceset.dim, self._source)
                index.load_bytes(data)
                usable = index.ntotal == meta.count and meta.dim == faceset.dim
                usable = usable and state.removed_floor <= meta.generation <= state.generation
            except (RuntimeError, ValueError, TypeError, MemoryError, FaceprintError) as exc:  # FAISS's parse errors, a bad spec or sizes
                log.warning("index snapshot of %s is unreadable (%s); rebuilding", faceset.token, exc)
                usable = False
            if usable:
                live = LiveIndex(faceset, fid, index, meta.generation)
                live.saved_generation = meta.generation
                if self._catch_up(live):
                    return live
                log.warning("index snapshot of %s disagrees with the store; rebuilding", faceset.token)
        spec = self.policy.choose(faceset.index_spec, state.count, faceset.dim)
        index, gen = self._build(fid, spec, faceset.dim, None)
        live = LiveIndex(faceset, fid, index, gen)
        self._catch_up(live)
        return live

    def _build(self, fid: int, spec: str, dim: int, template: VectorIndex | None) -> tuple[VectorIndex, int]:
        """A new index of ``spec`` holding every face up to the store's current generation."""
        state = self.store.index_state(fid)
        index = template.empty_clone() if template is not None and template.spec == spec and template.is_trained else make_index(spec, dim, self._source)
        if not index.is_trained:
            if state.count < index.min_train:
                index = FlatIndex(dim)  # exact until there is enough to train on
            else:
                index.train(self._sample(fid, state, index.min_train))
        for ids, vecs in self.store.added_since(fid, -1, upto=state.generation):
            index.add(ids, vecs)
        return index, state.generation

    def _sample(self, fid: int, state: IndexState, need: int) -> np.ndarray:
        rng = np.random.default_rng(fid)
        keep = min(1.0, 1.2 * need / max(state.count, 1))
        parts = [v[rng.random(len(v)) < keep] for _, v in self.store.added_since(fid, -1, upto=state.generation)]
        return np.concatenate(parts)[:need] if parts else np.zeros((0, 0), np.float32)

    # -- catching up --------------------------------------------------------------------------
    def _apply(self, live: LiveIndex, state: IndexState) -> None:
        before = live.index.ntotal
        for ids, vecs in self.store.added_since(live.faceset_id, live.generation, upto=state.generation):
            live.index.add(ids, vecs)
        removed = self.store.removed_since(live.faceset_id, live.generation, upto=state.generation)
        live.index.remove(removed)
        live.unsaved += abs(live.index.ntotal - before) + len(removed)
        live.generation = state.generation

    def _catch_up(self, live: LiveIndex, first: IndexState | None = None) -> bool:
        """Bring ``live`` to the store's generation (``first``: as just read); False if it cannot agree (then rebuild)."""
        for _ in range(3):
            state, first = first or self.store.index_state(live.faceset_id), None
            if live.generation < state.removed_floor or live.generation > state.generation:
                return False
            if live.generation != state.generation:
                with live.lock.write():
                    self._apply(live, state)
            if live.index.ntotal == state.count:
                return True
        return False

    def sync(self, faceset: FaceSet, fresh: bool = False) -> LiveIndex:
        """Catch up with every write so far (this process's or another's); maybe start a rebuild.

        ``fresh``: ``faceset`` was read from the store during this call, so catching up to its
        generation is enough, and the store is not read again when the index has it already.
        """
        live = self.live(faceset)
        if fresh and faceset.id == live.faceset_id:
            if faceset.generation <= live.generation:
                return live
            state = IndexState(faceset.generation, faceset.face_count, faceset.removed_floor)
        else:
            try:
                state = self.store.index_state(live.faceset_id)
            except InvalidFacesetToken:
                self.forget(faceset.token)
                raise
        if state.generation != live.generation and not self._catch_up(live, state):
            self._rebuild_now(live)
        if live.index.persistent and live.unsaved >= self.policy.save_every:
            self.save(live)
        self._maybe_rebuild(live)
        return live

    def _rebuild_now(self, live: LiveIndex) -> None:
        spec = self.policy.choose(live.requested, self.store.index_state(live.faceset_id).count, live.dim, live.index.spec)
        index, gen = self._build(live.faceset_id, spec, live.dim, live.index)
        with live.lock.write():
            live.index, live.generation, live.unsaved = index, gen, 1
        self._catch_up(live)

    def _maybe_rebuild(self, live: LiveIndex) -> None:
        count = live.index.ntotal
        want = self.policy.choose(live.requested, count, live.dim, live.index.spec)
        if want == live.index.spec or live.rebuilding is not None:
            return
        if count < self._min_train(want, live.dim):
            return  # not enough faces to train yet: stay exact
        if not self.policy.background:
            self._rebuild_to(live, want)
            return
        live.rebuilding = threading.Thread(target=self._rebuild_to, args=(live, want), name=f"rebuild-{live.token}", daemon=True)
        live.rebuilding.start()

    def _min_train(self, spec: str, dim: int) -> int:
        key = (spec, dim)
        if key not in self._min_trains:
            self._min_trains[key] = make_index(spec, dim, None).min_train
        return self._min_trains[key]

    def _rebuild_to(self, live: LiveIndex, spec: str) -> None:
        try:
            index, gen = self._build(live.faceset_id, spec, live.dim, None)
            twin = live.twin(index, gen)
            if not self._catch_up(twin):  # writes that landed while building
                return
            with live.lock.write():
                self._apply_twin(live, twin)
            log.info("gallery %s now searches with %s (%d faces)", live.token, spec, index.ntotal)
            self.save(live)
        except InvalidFacesetToken:
            pass
        except Exception:
            log.exception("background rebuild of %s failed", live.token)
        finally:
            live.rebuilding = None

    def _apply_twin(self, live: LiveIndex, twin: LiveIndex) -> None:
        state = self.store.index_state(live.faceset_id)
        if twin.generation != state.generation:
            self._apply(twin, state)
        live.index, live.generation, live.unsaved = twin.index, twin.generation, twin.unsaved + 1

    def wait(self, token: str | None = None) -> None:
        """Block until background rebuilds (of one gallery, or all) are done."""
        for live in list(self._live.values()):
            thread = live.rebuilding
            if thread is not None and (token is None or live.token == token):
                thread.join()

    # -- search -------------------------------------------------------------------------------
    def search(self, faceset: FaceSet, queries: np.ndarray, k: int) -> list[Hits]:
        live = self.sync(faceset, fresh=True)
        with live.lock.read():
            return live.index.search(queries, k, self.policy.search_params(live.index.nlist))

    # -- persistence and erasure --------------------------------------------------------------
    def save(self, live: LiveIndex) -> None:
        """Snapshot a written index (after catching up under the gallery's file lock)."""
        folder = self.folder(live.token)
        with file_lock(folder / snapshot.LOCK):
            self._catch_up(live)
            with live.lock.read():
                if not live.index.persistent:
                    snapshot.clear(folder)
                    return
                data = live.index.to_bytes()
                meta = snapshot.SnapshotMeta(live.index.spec, live.dim, live.generation, live.index.ntotal, "")
            snapshot.write(folder, meta, data, self.cipher, live.token.encode())
            live.saved_generation, live.unsaved = meta.generation, 0

    def erase(self, faceset: FaceSet) -> None:
        """After a removal: catch up, then rewrite (or clear) the index files so none holds it."""
        self.save(self.sync(faceset))

    def forget(self, token: str) -> None:
        with self._lock:
            self._live.pop(token, None)

    def drop(self, token: str) -> None:
        """The gallery was deleted: forget it and remove its index folder."""
        self.forget(token)
        with file_lock(self.folder(token) / snapshot.LOCK):
            snapshot.clear(self.folder(token))
        snapshot.remove_folder(self.folder(token))

    def close(self) -> None:
        self.wait()
        for live in list(self._live.values()):
            if live.index.persistent and live.generation != live.saved_generation:
                with contextlib.suppress(InvalidFacesetToken):  # removed meanwhile: nothing to save
                    self.save(live)
        self._live.clear()


def _open(url: str, ctx: IndexContext) -> IndexManager:
    if url != "faiss":
        raise InvalidIndexSpec(f"the faiss backend takes no address; got {url!r}", index=url)
    return IndexManager(ctx.store, ctx.data_dir / "index", ctx.cipher, ctx.policy)


register_indexes("faiss", _open)
