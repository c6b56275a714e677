"""FaceID over HTTP: references resolved from the service's own stores, sessions in the service state.

The router parses forms and shapes replies; this module turns a reference (an image, a face
token or a gallery subject) into a template, issues and spends sessions through
:class:`~faceprint.liveness.flow.FaceIDFlow`, and reads uploaded clips or frame lists.
Sessions live in ``<data>/liveness.db``, or in the shared PostgreSQL database when the store is
one, so a biz_token from one node is spent once on any node (nonce hashes only). The reference
template is sealed with the gallery's cipher (``FACEPRINT_KEY``) and erased, WAL included, when the
session is spent; :class:`SessionPurger`, started with the app, erases it as each unspent session
expires. Built lazily, once per app.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import BadInput, MissingArguments, PackMismatch
from ..liveness import FrameSequence, SequenceLimits, SessionStore, parse_actions
from ..liveness import session as sessions
from ..liveness.flow import FaceIDFlow, FaceIDResult, FlowConfig, Reference
from ..liveness.pad import PADOptions
from ..liveness.session import IssuedSession
from ..video.isolated import WorkerLimits
from .db import Schema
from .recognition import ImageRef
from .runtime import Runtime, attached

LIVENESS_DB = "liveness.db"
SESSIONS = Schema(
    "liveness_sessions", sessions.SCHEMA_VERSION, sqlite=sessions.SQLITE_SCHEMA, postgresql=sessions.PG_SCHEMA,
    file=LIVENESS_DB, secure_delete=True,
)  # fmt: skip
# Over HTTP a verify must finish inside the request time limit: 240 frames is 8 s at 30 fps.
# Clips are decoded in a worker process (FFmpeg never runs in the server), within the request's time.
HTTP_LIMITS = SequenceLimits(max_frames=240, max_duration_s=20.0, max_side=1280, worker=WorkerLimits(memory_mb=2048, timeout_s=30.0))
MIN_TTL_S, MAX_TTL_S = 1, 3600
log = logging.getLogger("faceprint.service")


@dataclass(frozen=True)
class ReferenceSpec:
    face_token: str | None = None
    image: ImageRef | None = None
    faceset: str | None = None  # faceset_token or outer_id, with subject
    subject: str | None = None


class FaceID:
    def __init__(self, rt: Runtime, sessions: SessionStore) -> None:
        self.rt = rt
        # The passive detector: minifasnet when its weights are in <data>/models/pad (or $FACEPRINT_PAD_DIR).
        config = FlowConfig(pad_options=PADOptions(data_dir=rt.data_dir))
        self.flow = FaceIDFlow(rt.engine, sessions, config)

    # -- biz_token --------------------------------------------------------------------------------
    def reference(self, tenant: str, spec: ReferenceSpec) -> Reference:
        pack = self.rt.engine.pack.name
        if spec.face_token is not None:
            stored = self.rt.recognition.lookup(tenant, spec.face_token)
            if stored.pack != pack or stored.face.embedding is None:
                raise PackMismatch(f"face token {spec.face_token} was made with pack {stored.pack}; this server uses {pack}")
            return Reference(stored.face.embedding, "face_token", {"face_token": spec.face_token})
        if spec.image is not None:
            img, _ = self.rt.recognition._load(spec.image)
            return self.flow.reference_from_image(img)
        if spec.faceset is None or spec.subject is None:
            raise MissingArguments("a reference is required: face_token, an image, or faceset_token/outer_id with subject",
                                   param="face_token, image_file, image_base64, image_url, faceset_token, outer_id, subject")  # fmt: skip
        fs = self.rt.gallery.get(spec.faceset, tenant=tenant)
        if fs.pack != pack:
            raise PackMismatch(f"faceset {spec.faceset} holds {fs.pack} templates; this server uses {pack}")
        faces = self.rt.gallery.faces(fs.token, 0, 100, subject=spec.subject, tenant=tenant).items
        if not faces:
            raise BadInput(f"no face of subject {spec.subject!r} in faceset {spec.faceset}", param="subject")
        vecs = np.stack([self.rt.gallery.embedding(f.token, tenant=tenant) for f in faces])
        mean = vecs.mean(axis=0)
        return Reference((mean / np.linalg.norm(mean)).astype(np.float32), "subject",
                         {"faceset_token": fs.token, "subject": spec.subject, "faces": len(faces)})  # fmt: skip

    def issue(self, tenant: str, spec: ReferenceSpec, actions: str | None, ttl_s: int) -> IssuedSession:
        ref = self.reference(tenant, spec)
        acts = parse_actions(actions) if actions else None
        if not MIN_TTL_S <= ttl_s <= MAX_TTL_S:
            raise BadInput(f"expire_seconds must be {MIN_TTL_S}-{MAX_TTL_S}", param="expire_seconds")
        store = self.flow.store
        return store.issue(acts, tenant=tenant, ttl_s=float(ttl_s), reference=ref.embedding,
                           reference_info={"kind": ref.kind, **ref.info})  # fmt: skip

    # -- verify -----------------------------------------------------------------------------------
    def verify(
        self, tenant: str, biz_token: str, video: bytes | None, archive: bytes | None, times: Sequence[float] | None
    ) -> FaceIDResult:
        """Spend the session, then unpack the performance: a made-up biz_token costs no decoding."""
        challenge = self.flow.store.consume(biz_token, tenant=tenant)  # spent first: one try per session
        frames = frames_from_zip(archive) if archive is not None else []
        seq = self.read(video, frames, times)
        return self.flow.judge(challenge.actions, seq, challenge.reference, challenge.reference_info)

    @staticmethod
    def read(video: bytes | None, frames: Sequence[bytes], times: Sequence[float] | None) -> FrameSequence:
        if video is not None:
            fd, path = tempfile.mkstemp(prefix="faceid-", suffix=".video")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(video)
                return FrameSequence.from_video(path, limits=HTTP_LIMITS)
            finally:
                os.unlink(path)
        return FrameSequence.from_images(list(frames), times, limits=HTTP_LIMITS)


def faceid_for(rt: Runtime) -> FaceID:
    """The app's FaceID service, built on first use and kept on the runtime object."""
    sessions = sessions_for(rt)  # first: ``attached`` is not re-entrant
    return attached(rt, "_faceid", lambda rt: FaceID(rt, sessions))


def sessions_for(rt: Runtime) -> SessionStore:
    """The app's liveness sessions (one store, shared by FaceID and the purger)."""
    return attached(rt, "_liveness_sessions", lambda rt: SessionStore(db=rt.state.db(SESSIONS), cipher=rt.gallery.cipher))


class SessionPurger:
    """A thread that erases each unspent session's reference as it expires (within ``tick_s``).

    It sleeps until the next expiry it knows of, but never longer than ``tick_s``: on a shared
    PostgreSQL store other nodes issue sessions it was not told about.
    """

    def __init__(self, store: SessionStore, tick_s: float = 1.0) -> None:
        self.store, self.tick_s = store, tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="faceprint-liveness-purge", daemon=True)

    def start(self) -> SessionPurger:
        self._thread.start()
        return self

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.wait(wait):
            try:
                self.store.purge()
                due = self.store.next_expiry()
            except Exception:  # a failed sweep is retried on the next tick
                log.exception("liveness session purge failed")
                due = None
            wait = self.tick_s if due is None else min(self.tick_s, max(0.05, due - time.time() + 0.01))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)


def start_purger(rt: Runtime) -> SessionPurger:
    return SessionPurger(sessions_for(rt)).start()


MAX_ARCHIVE_ENTRY = 10 * 1024 * 1024  # one frame, uncompressed
MAX_ARCHIVE_TOTAL = 64 * 1024 * 1024  # every frame together, uncompressed
MAX_ARCHIVE_RATIO = 50  # uncompressed / compressed of an entry over 1 MiB: photos do not compress 50:1, zeros do


def _check_archive(infos: Sequence[zipfile.ZipInfo]) -> None:
    """Refuse from the zip's directory, before inflating a byte: count, sizes, compression ratio."""
    if len(infos) > HTTP_LIMITS.max_frames:
        raise BadInput(f"frames_file holds {len(infos)} files; at most {HTTP_LIMITS.max_frames}", param="frames_file")
    total = 0
    for info in infos:
        if info.file_size > MAX_ARCHIVE_ENTRY:
            raise BadInput(f"{info.filename} is over {MAX_ARCHIVE_ENTRY} bytes", param="frames_file")
        if info.file_size > 1 << 20 and info.file_size > MAX_ARCHIVE_RATIO * max(info.compress_size, 1):
            raise BadInput(f"{info.filename} inflates {info.file_size // max(info.compress_size, 1)}:1; at most"
                           f" {MAX_ARCHIVE_RATIO}:1", param="frames_file")  # fmt: skip
        total += info.file_size
    if total > MAX_ARCHIVE_TOTAL:
        raise BadInput(f"frames_file inflates to {total} bytes; at most {MAX_ARCHIVE_TOTAL}", param="frames_file")


def frames_from_zip(data: bytes) -> list[bytes]:
    """Frames packed as a zip of images, in name order; bounded against zip bombs from the directory."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: i.filename)
    except (zipfile.BadZipFile, ValueError):
        raise BadInput("frames_file must be a zip archive of images", param="frames_file") from None
    _check_archive(infos)
    out = []
    for info in infos:
        try:
            with zf.open(info) as fh:  # zipfile stops at the declared size and checks the CRC
                out.append(fh.read(info.file_size))
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError, zlib.error):
            raise BadInput(f"cannot read {info.filename} from frames_file", param="frames_file") from None
    return out
