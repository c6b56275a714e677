"""GalleryService: the library API over galleries (FaceSets), mirrored by the CLI and the HTTP layer.

    with GalleryService() as svc:                       # ./faceprint-data or $FACEPRINT_DATA
        svc.create("staff", display_name="Staff")
        svc.enroll_folder("staff", "photos/")             # photos/<subject>/*.jpg
        result = svc.search("staff", "door.jpg", SearchOptions(top_k=3, by="subject"))
        print(result.subject or "unknown")

Every call acts for a ``tenant`` (default ``"default"``) and never sees another tenant's data.
A gallery is named by its ``faceset_token`` or its ``outer_id``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import pipeline
from ..compare import Calibration, calibration_for
from ..deprecation import alias
from ..engine import FaceEngine
from ..errors import InvalidFacesetToken, InvalidOuterId, NoFaceFound, PackMismatch
from ..image import ImageInput
from ..index.backends import IndexContext, open_indexes
from ..index.policy import IndexPolicy
from ..models.packs import default_pack_name, get_pack
from ..types import Face
from . import enrol as enrolling
from .crypto import Cipher, key_from_env
from .enrol import EnrolItem, EnrolOptions, Progress
from .search import SearchOptions, common_pack, search_vectors
from .store import StoreOptions, open_store, sqlite_url
from .store.base import Assignment, HeldFace, StoreStats
from .types import (
    DEFAULT_TENANT,
    EnrolReport,
    FaceRecord,
    FaceSet,
    FaceSetUpdate,
    NewFace,
    NewFaceSet,
    Page,
    SearchResult,
)

DATA_ENV = "FACEPRINT_DATA"
STORE_ENV = "FACEPRINT_STORE"
INDEX_ENV = "FACEPRINT_INDEX"
DEFAULT_DATA_DIR = "faceprint-data"
DB_NAME = "faceprint.db"


def default_data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR)


@dataclass(frozen=True)
class GalleryConfig:
    data_dir: Path | None = None  # None: $FACEPRINT_DATA, else ./faceprint-data
    key: bytes | None = None  # AES key; None: $FACEPRINT_KEY / $FACEPRINT_KEY_FILE if set
    policy: IndexPolicy = field(default_factory=IndexPolicy)
    pack: str | None = None  # pack for new galleries; None: $FACEPRINT_PACK or the default
    synchronous: str = "FULL"  # SQLite: FULL survives power loss, NORMAL only process crashes
    store: str | None = None  # sqlite:///path or postgresql://...; None: $FACEPRINT_STORE, else SQLite in data_dir
    index: str | None = None  # faiss or milvus://host:19530; None: $FACEPRINT_INDEX, else faiss


class GalleryService:
    def __init__(
        self,
        config: GalleryConfig | None = None,
        engine: FaceEngine | None = None,
        calibrations: Callable[[str], Calibration] = calibration_for,
    ) -> None:
        self.config = config or GalleryConfig()
        self.data_dir = Path(self.config.data_dir or default_data_dir())
        self.cipher = Cipher(self.config.key if self.config.key is not None else key_from_env())
        self.store_url = self.config.store or os.environ.get(STORE_ENV) or sqlite_url(self.data_dir / DB_NAME)
        self.index_url = self.config.index or os.environ.get(INDEX_ENV) or "faiss"
        self.store = open_store(self.store_url, StoreOptions(self.cipher, self.config.synchronous))
        try:
            self.indexes = open_indexes(self.index_url, IndexContext(self.store, self.data_dir, self.cipher, self.config.policy))
        except BaseException:
            self.store.close()
            raise
        self._engine = engine
        self._engines: dict[str, FaceEngine] = {}
        self._calibrations = calibrations

    @property
    def engine(self) -> FaceEngine:
        """The engine new galleries are made for: the one given, else one of ``config.pack``."""
        if self._engine is not None:
            return self._engine
        return self.engine_for(self.config.pack or default_pack_name())

    def engine_for(self, pack: str) -> FaceEngine:
        """An engine of ``pack``: a gallery is always searched and enrolled with its own pack."""
        if self._engine is not None:
            if self._engine.pack.name != pack:
                raise PackMismatch(
                    f"the gallery holds {pack} templates; this engine runs {self._engine.pack.name}",
                    faceset_pack=pack,
                    engine_pack=self._engine.pack.name,
                )
            return self._engine
        if pack not in self._engines:
            self._engines[pack] = FaceEngine(pack)
        return self._engines[pack]

    def close(self) -> None:
        self.indexes.close()
        self.store.close()

    def __enter__(self) -> GalleryService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def gallery(self, ref: str, *, tenant: str = DEFAULT_TENANT) -> Gallery:
        """A handle bound to one gallery: ``svc.gallery("staff").search("door.jpg")``."""
        return Gallery(self, self.get(ref, tenant=tenant).token, tenant)

    # -- galleries ----------------------------------------------------------------------------
    def create(
        self,
        outer_id: str | None = None,
        *,
        display_name: str = "",
        tags: Sequence[str] = (),
        user_data: str = "",
        index_spec: str = "auto",
        tenant: str = DEFAULT_TENANT,
    ) -> FaceSet:
        """A gallery for this service's engine pack."""
        pack = self._engine.pack if self._engine is not None else get_pack(self.config.pack or default_pack_name())
        new = NewFaceSet(pack.name, pack.dim, outer_id, display_name, tuple(tags), user_data, index_spec, tenant)
        return self.create_for(new)

    def create_for(self, new: NewFaceSet) -> FaceSet:
        """A gallery for any pack and dimension (for templates computed elsewhere)."""
        self.indexes.check_spec(new.index_spec, new.dim)
        return self.store.create_faceset(new)

    def get(self, ref: str, *, tenant: str = DEFAULT_TENANT) -> FaceSet:
        """By faceset_token, else by outer_id."""
        try:
            return self.store.get_faceset(tenant, token=ref)
        except InvalidFacesetToken:
            pass
        try:
            return self.store.get_faceset(tenant, outer_id=ref)
        except InvalidOuterId:
            raise InvalidFacesetToken(f"no faceset with token or outer_id {ref!r}", faceset=ref) from None

    def find(self, tenant: str, token: str | None, outer_id: str | None) -> FaceSet:
        """By faceset_token (INVALID_FACESET_TOKEN) if given, else by outer_id (INVALID_OUTER_ID): one read."""
        return self.store.get_faceset(tenant, token=token, outer_id=outer_id)

    def stats(self) -> StoreStats:
        return self.store.stats()

    def galleries(self, start: int = 0, limit: int = 100, *, tag: str | None = None, tenant: str = DEFAULT_TENANT) -> Page:
        return self.store.list_facesets(tenant, start, limit, tag)

    def update(self, ref: str, update: FaceSetUpdate, *, tenant: str = DEFAULT_TENANT) -> FaceSet:
        return self.store.update_faceset(tenant, self.get(ref, tenant=tenant).token, update)

    def delete(self, ref: str, *, tenant: str = DEFAULT_TENANT) -> int:
        """Delete a gallery and erase every face in it; returns how many faces went."""
        fs = self.get(ref, tenant=tenant)
        if self.indexes.shared:
            self.indexes.drop(fs.token)
        n = self.store.delete_faceset(tenant, fs.token)
        self.indexes.drop(fs.token)  # again for a shared index: a node syncing meanwhile may have refilled it
        return n

    # -- faces --------------------------------------------------------------------------------
    def add_embeddings(self, ref: str, faces: Sequence[NewFace], *, tenant: str = DEFAULT_TENANT) -> list[FaceRecord]:
        """Store ready-made templates (they must come from the gallery's pack). Durable on return."""
        fs = self.get(ref, tenant=tenant)
        records = self.store.add_faces(tenant, fs.token, faces)
        self.indexes.sync(fs)
        return records

    def enroll_items(
        self, ref: str, items: Sequence[EnrolItem], options: EnrolOptions | None = None, *, tenant: str = DEFAULT_TENANT,
        progress: Progress | None = None,
    ) -> EnrolReport:  # fmt: skip
        fs = self.get(ref, tenant=tenant)
        report = enrolling.enrol(
            self.engine_for(fs.pack),
            items,
            options or EnrolOptions(),
            lambda faces: self.store.add_faces(tenant, fs.token, faces),
            lambda hashes: self.store.known_images(tenant, fs.token, hashes),
            progress,
        )
        self.indexes.sync(fs)
        return report

    def enroll(
        self,
        ref: str,
        images: Sequence[ImageInput],
        subject: str,
        options: EnrolOptions | None = None,
        *,
        tenant: str = DEFAULT_TENANT,
    ) -> EnrolReport:
        """Images of one subject; each must show one face (or ``options.face`` says which)."""
        items = [
            EnrolItem(str(im) if isinstance(im, (str, os.PathLike)) else f"#{i}", im, subject) for i, im in enumerate(images)
        ]
        return self.enroll_items(ref, items, options, tenant=tenant)

    def enroll_one(
        self, ref: str, image: ImageInput, subject: str, options: EnrolOptions | None = None, *, tenant: str = DEFAULT_TENANT
    ) -> FaceRecord:
        """One image; raises NO_FACE_FOUND, MULTIPLE_FACES or LOW_QUALITY instead of reporting."""
        fs = self.get(ref, tenant=tenant)
        new = enrolling.prepare_one(self.engine_for(fs.pack), image, subject, options or EnrolOptions())
        (record,) = self.store.add_faces(tenant, fs.token, [new])
        self.indexes.sync(fs)
        return record

    def enroll_folder(
        self, ref: str, folder: str | os.PathLike[str], options: EnrolOptions | None = None, *, tenant: str = DEFAULT_TENANT,
        progress: Progress | None = None,
    ) -> EnrolReport:  # fmt: skip
        """``folder/<subject>/*.jpg``: batched inference, one report."""
        return self.enroll_items(ref, enrolling.folder_items(folder), options, tenant=tenant, progress=progress)

    enrol, enrol_items = alias(enroll, "enrol"), alias(enroll_items, "enrol_items")  # deprecated spellings
    enrol_one, enrol_folder = alias(enroll_one, "enrol_one"), alias(enroll_folder, "enrol_folder")

    def remove_faces(self, ref: str, face_tokens: Sequence[str], *, tenant: str = DEFAULT_TENANT) -> int:
        """Erase faces: from the store (zeroed, WAL truncated) and from every index file."""
        fs = self.get(ref, tenant=tenant)
        n = self.store.remove_faces(tenant, fs.token, face_tokens)
        self.indexes.erase(fs)
        return n

    def remove_subject(self, ref: str, subject: str, *, tenant: str = DEFAULT_TENANT) -> int:
        fs = self.get(ref, tenant=tenant)
        n = self.store.remove_subject(tenant, fs.token, subject)
        self.indexes.erase(fs)
        return n

    def faces(
        self, ref: str, start: int = 0, limit: int = 100, *, subject: str | None = None, tenant: str = DEFAULT_TENANT
    ) -> Page:
        return self.store.list_faces(tenant, self.get(ref, tenant=tenant).token, start, limit, subject)

    def face(self, face_token: str, *, tenant: str = DEFAULT_TENANT) -> FaceRecord:
        return self.store.get_face(tenant, face_token)

    def embedding(self, face_token: str, *, tenant: str = DEFAULT_TENANT) -> np.ndarray:
        return self.store.get_embedding(tenant, face_token)

    # -- detected faces (face tokens): one row each, the same row once added to a gallery ----------
    def detect_faces(self, tenant: str, pack: str, faces: Sequence[NewFace], ttl_s: float) -> list[str]:
        """Keep detected faces for ``ttl_s`` seconds unless added to a gallery; their face tokens."""
        return self.store.detect_faces(tenant, pack, faces, time.time() + ttl_s)

    def held_face(self, face_token: str, *, tenant: str = DEFAULT_TENANT) -> HeldFace:
        return self.store.held_face(tenant, face_token, time.time())

    def add_detected(self, fs: tuple[str | None, str | None], face_tokens: Sequence[str], capacity: int, *, tenant: str = DEFAULT_TENANT) -> Assignment:
        """Detected faces join the gallery named by (faceset_token, outer_id): one store transaction
        under the gallery's row lock, refusing what would pass ``capacity``; searchable on return."""
        done = self.store.assign_faces(tenant, fs, face_tokens, capacity, time.time())
        if done.added:
            self.indexes.sync(done.faceset, fresh=True)
        return done

    def set_subject(self, face_token: str, subject: str, *, tenant: str = DEFAULT_TENANT) -> None:
        """The face's one user_id: search, video identification and listings all show it at once."""
        self.store.set_subject(tenant, face_token, subject, time.time())

    def purge_detected(self, now: float | None = None) -> int:
        """Erase detected faces that expired (by ``now``) without joining a gallery."""
        return self.store.purge_detected(time.time() if now is None else now)

    def detected_count(self) -> int:
        return self.store.detected_count()
    # -- search -------------------------------------------------------------------------------
    def _facesets(self, refs: str | FaceSet | Sequence[str | FaceSet], tenant: str) -> list[FaceSet]:
        """Names read from the store; FaceSets the caller resolved in this request are used as they are."""
        names = [refs] if isinstance(refs, (str, FaceSet)) else list(refs)
        return [r if isinstance(r, FaceSet) else self.get(r, tenant=tenant) for r in names]

    def search_embeddings(
        self,
        refs: str | FaceSet | Sequence[str | FaceSet],
        vectors: np.ndarray,
        options: SearchOptions | None = None,
        *,
        tenant: str = DEFAULT_TENANT,
    ) -> list[SearchResult]:
        """One result per row of ``vectors`` (templates of the galleries' pack)."""
        opts = options or SearchOptions()
        facesets = self._facesets(refs, tenant)
        first = common_pack(facesets)
        cal = self._calibrations(first.pack)
        found = search_vectors(self.indexes, self.store, facesets, vectors, opts, cal)
        return [SearchResult(m, cal.thresholds, opts.far) for m in found]

    def search(
        self,
        refs: str | Sequence[str],
        probe: ImageInput | Face,
        options: SearchOptions | None = None,
        *,
        tenant: str = DEFAULT_TENANT,
    ) -> SearchResult:
        """Search with one probe image (its largest face, or ``options.face``) or an embedded Face."""
        return self.search_batch(refs, [probe], options, tenant=tenant)[0]

    def search_batch(
        self, refs: str | Sequence[str], probes: Sequence[ImageInput | Face], options: SearchOptions | None = None, *,
        tenant: str = DEFAULT_TENANT,
    ) -> list[SearchResult]:  # fmt: skip
        """Many probes at once: one batched embedding pass and one batched index search."""
        opts = options or SearchOptions()
        facesets = self._facesets(refs, tenant)
        first = common_pack(facesets)
        faces, counts = self._probe_faces(first.pack, probes, opts)
        vecs = np.stack([f.embedding for f in faces]).astype(np.float32)  # type: ignore[misc]
        if vecs.shape[1] != first.dim:
            raise PackMismatch(f"probe templates have {vecs.shape[1]} dimensions; {first.name} holds {first.dim}")
        results = self.search_embeddings(facesets, vecs, opts, tenant=tenant)  # resolved once, not read again
        return [SearchResult(r.matches, r.thresholds, r.far, face=f, faces_found=n) for r, f, n in zip(results, faces, counts, strict=True)]

    def _probe_faces(self, pack: str, probes: Sequence[ImageInput | Face], opts: SearchOptions) -> tuple[list[Face], list[int]]:
        faces: list[Face | None] = [p if isinstance(p, Face) else None for p in probes]
        counts = [1] * len(probes)
        todo = [i for i, p in enumerate(probes) if not isinstance(p, Face)]
        if todo:
            engine = self.engine_for(pack)
            imgs = [engine.load(probes[i]) for i in todo]  # type: ignore[arg-type]
            found = pipeline.detect(engine.models, imgs, engine.steps())
            pick = EnrolOptions(min_quality=0.0, face=opts.face or 0)
            embedded = engine.embed_found([d.only(enrolling.choose_face(d.faces, pick)) for d in found])
            for i, d, (face,) in zip(todo, found, embedded, strict=True):
                faces[i], counts[i] = face, len(d.faces)
        for f in faces:
            if f is None or f.embedding is None:
                raise NoFaceFound("a probe Face has no embedding; pass it through embed() first")
        return faces, counts  # type: ignore[return-value]


class Gallery:
    """One gallery of a :class:`GalleryService`, so calls need not repeat its name and tenant."""

    def __init__(self, service: GalleryService, token: str, tenant: str) -> None:
        self.service, self.token, self.tenant = service, token, tenant

    @property
    def info(self) -> FaceSet:
        return self.service.get(self.token, tenant=self.tenant)

    def enroll(self, images: Sequence[ImageInput], subject: str, options: EnrolOptions | None = None) -> EnrolReport:
        return self.service.enroll(self.token, images, subject, options, tenant=self.tenant)

    def enroll_folder(self, folder: str | os.PathLike[str], options: EnrolOptions | None = None) -> EnrolReport:
        return self.service.enroll_folder(self.token, folder, options, tenant=self.tenant)

    enrol, enrol_folder = alias(enroll, "enrol"), alias(enroll_folder, "enrol_folder")

    def add_embeddings(self, faces: Sequence[NewFace]) -> list[FaceRecord]:
        return self.service.add_embeddings(self.token, faces, tenant=self.tenant)

    def search(self, probe: ImageInput | Face, options: SearchOptions | None = None) -> SearchResult:
        return self.service.search(self.token, probe, options, tenant=self.tenant)

    def search_batch(self, probes: Sequence[ImageInput | Face], options: SearchOptions | None = None) -> list[SearchResult]:
        return self.service.search_batch(self.token, probes, options, tenant=self.tenant)

    def search_embeddings(self, vectors: np.ndarray, options: SearchOptions | None = None) -> list[SearchResult]:
        return self.service.search_embeddings(self.token, vectors, options, tenant=self.tenant)

    def remove_faces(self, face_tokens: Sequence[str]) -> int:
        return self.service.remove_faces(self.token, face_tokens, tenant=self.tenant)

    def remove_subject(self, subject: str) -> int:
        return self.service.remove_subject(self.token, subject, tenant=self.tenant)

    def faces(self, start: int = 0, limit: int = 100, *, subject: str | None = None) -> Page:
        return self.service.faces(self.token, start, limit, subject=subject, tenant=self.tenant)

    def delete(self) -> int:
        return self.service.delete(self.token, tenant=self.tenant)
