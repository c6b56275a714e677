"""What detect, compare, search and face/analyze do, over the engine, the batcher and the stores.

Plain async functions of typed inputs; the routers only parse forms and shape Face++ replies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import anyio.to_thread
import numpy as np

from ..choose import primary_index
from ..compare import Calibration, cosine
from ..errors import FaceprintError, ImageFormatError, InvalidFaceToken
from ..gallery import GalleryService, SearchOptions
from ..image import decode_bytes
from ..types import Face
from .batching import MicroBatcher
from .config import ServiceConfig
from .errors import EmptyFaceset
from .facesets import resolve_faceset
from .fetch import fetch
from .tokens import StoredFace, TokenStore


@dataclass(frozen=True)
class ImageRef:
    """One image argument: ``param`` names the form field, for error messages."""

    param: str
    data: bytes | None = None  # image_file bytes
    base64: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Probe:
    """A face to compare or search with: a face token, or an image (its largest face)."""

    face_token: str | None = None
    image: ImageRef | None = None
    rectangle: tuple[int, int, int, int] | None = None  # top, left, width, height: use the face there


@dataclass(frozen=True)
class Side:
    """One image (or token) after analysis: all its faces with their tokens, and the one chosen."""

    faces: list[Face] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    image_id: str | None = None
    chosen: int | None = None  # index into faces; None: no face

    @property
    def face(self) -> Face | None:
        return None if self.chosen is None else self.faces[self.chosen]


@dataclass(frozen=True)
class Compared:
    side1: Side
    side2: Side
    confidence: float | None  # None when either side has no face
    thresholds: dict[str, float]


@dataclass(frozen=True)
class Hit:
    face_token: str
    user_id: str
    confidence: float


@dataclass(frozen=True)
class Identified:
    """Every face of one image (``side``) and, for each, its best subjects, best first."""

    side: Side
    hits: list[list[Hit]]
    thresholds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Searched:
    side: Side
    hits: list[Hit]
    thresholds: dict[str, float]


class Recognition:
    def __init__(
        self, config: ServiceConfig, batcher: MicroBatcher, tokens: TokenStore, gallery: GalleryService
    ) -> None:
        self.config = config
        self.batcher = batcher
        self.tokens = tokens
        self.gallery = gallery
        self.pack = batcher.engine.pack.name

    @property
    def calibration(self) -> Calibration:
        return self.batcher.engine.calibration

    # -- images ---------------------------------------------------------------------------------
    def _bytes(self, ref: ImageRef) -> bytes:
        if ref.data is not None:
            return ref.data
        if ref.base64 is not None:
            text = ref.base64.split(",", 1)[1] if ref.base64.startswith("data:") else ref.base64
            self.config.images.check_bytes(len(text) * 3 // 4)
            try:
                return base64.b64decode("".join(text.split()), validate=True)
            except (binascii.Error, ValueError):
                raise ImageFormatError("image_base64 is not valid base64", param=ref.param) from None
        assert ref.url is not None
        return fetch(ref.url, self.config.urls, ref.param)

    def _load(self, ref: ImageRef) -> tuple[np.ndarray, str]:
        data = self._bytes(ref)
        try:
            img = decode_bytes(data, self.config.images)
        except FaceprintError as exc:
            exc.details.setdefault("param", ref.param)
            raise
        return img, base64.b64encode(hashlib.md5(data).digest()).decode()

    # -- detect ---------------------------------------------------------------------------------
    async def detect(self, tenant: str, ref: ImageRef, rect: tuple[int, int, int, int] | None = None) -> Side:
        """Every face with a fresh face token (it expires unless added to a faceset)."""
        return (await self._detect(tenant, ref, rect))[0]

    async def _detect(self, tenant: str, ref: ImageRef, rect: tuple[int, int, int, int] | None) -> tuple[Side, np.ndarray]:
        img, image_id = await anyio.to_thread.run_sync(self._load, ref)
        faces = await self.batcher.faces(img) if rect is None else await anyio.to_thread.run_sync(self._in_box, img, rect)
        tokens = await anyio.to_thread.run_sync(self.tokens.mint, tenant, self.pack, faces)
        chosen = primary_index(faces, img.shape[1], img.shape[0]) if faces else None  # the library's choice too
        return Side(faces, tokens, image_id, chosen), img

    def _in_box(self, img: np.ndarray, rect: tuple[int, int, int, int]) -> list[Face]:
        """Face++ ``face_rectangle`` (top, left, width, height): the box is the face, embedded as is."""
        top, left, w, h = rect
        engine = self.batcher.engine
        face = engine.face_in_box(img, (left, top, left + w, top + h))
        return engine.embed_faces([img], [engine.add_landmarks(img, [face])])[0]

    # -- face tokens ----------------------------------------------------------------------------
    def lookup(self, tenant: str, token: str) -> StoredFace:
        """A face token of this tenant: minted by the API, or a face enrolled through the library."""
        try:
            return self.tokens.get(tenant, token)
        except InvalidFaceToken:
            pass
        record = self.gallery.face(token, tenant=tenant)  # raises INVALID_FACE_TOKEN for other tenants too
        vec = self.gallery.store.get_embedding(tenant, token)
        box = np.array(record.bbox if record.bbox is not None else (0, 0, 0, 0), np.float32)
        face = Face(bbox=box, score=1.0, kps=np.zeros((5, 2), np.float32), embedding=vec)
        fs = self.gallery.store.get_faceset(tenant, token=record.faceset_token)
        return StoredFace(token, tenant, fs.pack, face, record.subject, None)

    async def _side(self, tenant: str, probe: Probe) -> Side:
        if probe.face_token is not None:
            stored = await anyio.to_thread.run_sync(self.lookup, tenant, probe.face_token)
            return Side([stored.face], [stored.token], None, 0)
        assert probe.image is not None
        return await self.detect(tenant, probe.image, probe.rectangle)

    # -- compare and search ---------------------------------------------------------------------
    async def compare(self, tenant: str, a: Probe, b: Probe) -> Compared:
        """Two images are compared as 1:1 templates (flip-fused where the pack says so, as the
        library's ``compare``); a face token on either side keeps both as gallery templates."""
        if a.image is None or b.image is None:
            s1, s2 = await self._side(tenant, a), await self._side(tenant, b)
            return self._verdict(s1.face, s2.face, s1, s2, self.calibration)
        (s1, img1), (s2, img2) = await self._detect(tenant, a.image, a.rectangle), await self._detect(tenant, b.image, b.rectangle)
        engine = self.batcher.engine
        if s1.face is None or s2.face is None:
            return self._verdict(None, None, s1, s2, engine.calibration_of(True))
        f1, f2 = s1.face, s2.face
        t1, t2 = await anyio.to_thread.run_sync(lambda: (engine.as_one_to_one(img1, f1), engine.as_one_to_one(img2, f2)))
        return self._verdict(t1, t2, s1, s2, engine.calibration_of(True))

    @staticmethod
    def _verdict(f1: Face | None, f2: Face | None, s1: Side, s2: Side, cal: Calibration) -> Compared:
        conf = None
        if f1 is not None and f2 is not None:
            assert f1.embedding is not None and f2.embedding is not None
            conf = float(cal.confidence(cosine(f1.embedding, f2.embedding)))
        return Compared(s1, s2, conf, cal.thresholds)

    async def search(self, tenant: str, probe: Probe, faceset_token: str | None, outer_id: str | None, count: int) -> Searched:
        fs = await anyio.to_thread.run_sync(lambda: resolve_faceset(self.gallery, tenant, faceset_token, outer_id))
        if fs.face_count == 0:
            raise EmptyFaceset("the faceset has no faces")
        side = await self._side(tenant, probe)
        if side.face is None:
            return Searched(side, [], {})
        vec = np.asarray(side.face.embedding, np.float32)[None, :]

        def run() -> list[Hit]:
            (result,) = self.gallery.search_embeddings(fs.token, vec, SearchOptions(top_k=count), tenant=tenant)
            named = self.tokens.from_gallery([m.face_token for m in result.matches])
            return [
                Hit(*named.get(m.face_token, (m.face_token, m.subject)), confidence=m.confidence) for m in result.matches
            ]

        hits = await anyio.to_thread.run_sync(run)
        return Searched(side, hits, self.calibration.thresholds)

    async def identify(self, tenant: str, ref: ImageRef, faceset_token: str | None, outer_id: str | None, count: int) -> Identified:
        """Every face of the image, each with its best ``count`` subjects (one search call for all)."""
        fs = await anyio.to_thread.run_sync(lambda: resolve_faceset(self.gallery, tenant, faceset_token, outer_id))
        if fs.face_count == 0:
            raise EmptyFaceset("the faceset has no faces")
        side, _ = await self._detect(tenant, ref, None)
        if not side.faces:
            return Identified(side, [])
        vecs = np.stack([np.asarray(f.embedding, np.float32) for f in side.faces])

        def run() -> list[list[Hit]]:
            found = self.gallery.search_embeddings(fs.token, vecs, SearchOptions(top_k=count, by="subject"), tenant=tenant)
            named = self.tokens.from_gallery([m.face_token for r in found for m in r.matches])
            return [[Hit(*named.get(m.face_token, (m.face_token, m.subject)), confidence=m.confidence) for m in r.matches] for r in found]

        return Identified(side, await anyio.to_thread.run_sync(run), self.calibration.thresholds)

    def analyze(self, tenant: str, face_tokens: Sequence[str]) -> list[StoredFace]:
        return [self.lookup(tenant, t) for t in face_tokens]
