"""Folder enrolment over the worker pool: workers detect and embed, the parent stores in order.

    report = enrol_pooled(svc, "staff", folder_items(root), EnrolOptions(), workers=4)

Each worker runs :func:`~faceprint.gallery.enrol.prepare_one` on a path (decoding it itself);
the parent keeps every decision that touches the gallery: duplicate checks before any image is
sent, and the writes, a batch at a time in input order, so the gallery ends as one worker (or
the in-process ``enroll_items``) leaves it: the same faces with the same templates.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..engine import EngineConfig, FaceEngine
from ..gallery import EnrolOptions, GalleryService
from ..gallery.enrol import EnrolItem, Progress, image_sha256, prepare_one
from ..gallery.types import DEFAULT_TENANT, EnrolReport, FaceRecord, NewFace, Rejected
from ..image import ImageInput
from .pool import EnginePool, PoolConfig


@dataclass(frozen=True)
class EnrolTask:
    image: ImageInput  # a path (decoded in the worker), or bytes
    subject: str
    options: EnrolOptions


def prepare_task(engine: FaceEngine, task: EnrolTask) -> NewFace:
    """What a worker runs per image."""
    return prepare_one(engine, task.image, task.subject, task.options)


class _Run:
    def __init__(self, svc: GalleryService, tenant: str, token: str, items: Sequence[EnrolItem], options: EnrolOptions) -> None:
        self.svc, self.tenant, self.token, self.items, self.options = svc, tenant, token, items, options
        self.enrolled: list[FaceRecord] = []
        self.rejected: list[Rejected] = []
        self.duplicates: list[str] = []
        self.sent: deque[EnrolItem] = deque()
        self.handled = 0

    def tasks(self) -> Iterator[EnrolTask]:
        """The items to embed, batch by batch after the duplicate check (lazily, as the pool asks)."""
        seen: set[str] = set()
        size = max(1, self.options.batch_size)
        for start in range(0, len(self.items), size):
            batch = self.items[start : start + size]
            hashes = [image_sha256(it.image) for it in batch]
            known = self.svc.store.known_images(self.tenant, self.token, hashes) if self.options.skip_duplicates else set()
            for it, sha in zip(batch, hashes, strict=True):
                if self.options.skip_duplicates and (sha in known or sha in seen):
                    self.duplicates.append(it.source)
                    self.handled += 1
                    continue
                seen.add(sha)
                self.sent.append(it)
                yield EnrolTask(it.image, it.subject, self.options)

    def store(self, faces: list[NewFace]) -> None:
        if faces:
            self.enrolled += self.svc.store.add_faces(self.tenant, self.token, faces)
            faces.clear()


def enrol_pooled(
    svc: GalleryService, ref: str, items: Sequence[EnrolItem], options: EnrolOptions | None = None, *,
    workers: int | None = None, tenant: str = DEFAULT_TENANT, progress: Progress | None = None,
) -> EnrolReport:  # fmt: skip
    """``svc.enroll_items`` with detection and embedding in ``workers`` processes (default: one per core)."""
    t0 = time.perf_counter()
    opts = options or EnrolOptions()
    fs = svc.get(ref, tenant=tenant)
    run = _Run(svc, tenant, fs.token, items, opts)
    pending: list[NewFace] = []
    with EnginePool(PoolConfig(workers=workers, engine=EngineConfig(pack=fs.pack))) as pool:
        for outcome in pool.map(prepare_task, run.tasks()):
            it = run.sent.popleft()
            run.handled += 1
            if outcome.error is not None:
                run.rejected.append(Rejected(it.source, outcome.error.code, outcome.error.message))
            else:
                pending.append(outcome.get())
            if len(pending) >= max(1, opts.batch_size):
                run.store(pending)
            if progress is not None:
                progress(run.handled, len(items))
    run.store(pending)
    svc.indexes.sync(fs)
    if progress is not None:
        progress(len(items), len(items))
    return EnrolReport(tuple(run.enrolled), tuple(run.rejected), tuple(run.duplicates), time.perf_counter() - t0)
