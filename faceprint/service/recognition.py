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
from ..compare import Calibration
from ..errors import BadInput, FaceprintError, ImageFormatError, MissingArguments
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
    """A face to compare or search with: a face token, or an image (its primary face, or the given rectangle)."""

    face_token: str | None = None
    image: ImageRef | None = None
    rectangle: tuple[int, int, int, int] | None = None  # top, left, width, height: the face is there
    rectangle_param: str = "face_rectangle"  # its form field, for error messages


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
            text = ref.base64
            if text.startswith("data:"):  # a data URL: data:[<type>][;base64],<payload>
                _, comma, text = text.partition(",")
                if not comma:
                    raise BadInput("image_base64 is a data: URL without the ',' before its payload", param=ref.param)
            self.config.images.check_bytes(len(text) * 3 // 4)
            try:
                return base64.b64decode("".join(text.split()), validate=True)
            except (binascii.Error, ValueError):
                raise ImageFormatError("image_base64 is not valid base64", param=ref.param) from None
        if ref.url is None:
            raise MissingArguments("an image is required", param=ref.param)
        return fetch(ref.url, self.config.urls, ref.param)

    def _load(self, ref: ImageRef) -> tuple[np.ndarray, str]:
        data = self._bytes(ref)
        try:
            img = decode_bytes(data, self.config.images)
        except FaceprintError as exc:
            exc.details.setdefault("param", ref.param)
            raise
        return img, base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()

    # -- detect ---------------------------------------------------------------------------------
    async def detect(self, tenant: str, ref: ImageRef, rect: tuple[int, int, int, int] | None = None) -> Side:
        """Every face with a fresh face token (it expires unless added to a faceset); with ``rect``
        (top, left, width, height) that box is the one face and no detection runs, as in Face++."""
        return (await self._detect(tenant, Probe(image=ref, rectangle=rect)))[0]

    async def _detect(self, tenant: str, probe: Probe) -> tuple[Side, np.ndarray]:
        if probe.image is None:
            raise MissingArguments("an image is required", param="image_url, image_file, image_base64")
        img, image_id = await anyio.to_thread.run_sync(self._load, probe.image)
        if probe.rectangle is None:
            faces = await self.batcher.faces(img)
        else:
            faces = [await anyio.to_thread.run_sync(self._face_at, img, probe.rectangle, probe.rectangle_param)]
        tokens = await anyio.to_thread.run_sync(self.tokens.mint, tenant, self.pack, faces, image_id)
        chosen = primary_index(faces, img.shape[1], img.shape[0]) if faces else None  # the library's choice too
        return Side(faces, tokens, image_id, chosen), img

    def _face_at(self, img: np.ndarray, rectangle: tuple[int, int, int, int], param: str) -> Face:
        top, left, width, height = rectangle
        try:
            return self.batcher.engine.face_at(img, (left, top, left + width, top + height))
        except BadInput as exc:
            raise BadInput(exc.message, param=param) from None

    # -- face tokens ----------------------------------------------------------------------------
    def lookup(self, tenant: str, token: str) -> StoredFace:
        """A face token of this tenant: minted by the API, or a face enrolled through the library (one read)."""
        return self.tokens.get(tenant, token)

    async def _side(self, tenant: str, probe: Probe) -> Side:
        if probe.face_token is not None:
            stored = await anyio.to_thread.run_sync(self.lookup, tenant, probe.face_token)
            return Side([stored.face], [stored.token], None, 0)
        return (await self._detect(tenant, probe))[0]

    # -- compare and search ---------------------------------------------------------------------
    async def compare(self, tenant: str, a: Probe, b: Probe) -> Compared:
        """Two images are compared as 1:1 templates (flip-fused where the pack says so, as the
        library's ``compare``); a face token on either side keeps both as gallery templates."""
        if a.image is None or b.image is None:
            s1, s2 = await self._side(tenant, a), await self._side(tenant, b)
            return self._verdict(s1.face, s2.face, s1, s2, self.calibration)
        (s1, img1), (s2, img2) = await self._detect(tenant, a), await self._detect(tenant, b)
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
            conf = cal.verdict(f1.vector(), f2.vector()).confidence
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
            (result,) = self.gallery.search_embeddings(fs, vec, SearchOptions(top_k=count), tenant=tenant)
            return [Hit(m.face_token, m.subject, confidence=m.confidence) for m in result.matches]

        hits = await anyio.to_thread.run_sync(run)
        return Searched(side, hits, self.calibration.thresholds)

    async def identify(self, tenant: str, ref: ImageRef, faceset_token: str | None, outer_id: str | None, count: int) -> Identified:
        """Every face of the image, each with its best ``count`` subjects (one search call for all)."""
        fs = await anyio.to_thread.run_sync(lambda: resolve_faceset(self.gallery, tenant, faceset_token, outer_id))
        if fs.face_count == 0:
            raise EmptyFaceset("the faceset has no faces")
        side, _ = await self._detect(tenant, Probe(image=ref))
        if not side.faces:
            return Identified(side, [])
        vecs = np.stack([np.asarray(f.embedding, np.float32) for f in side.faces])

        def run() -> list[list[Hit]]:
            found = self.gallery.search_embeddings(fs, vecs, SearchOptions(top_k=count, by="subject"), tenant=tenant)
            return [[Hit(m.face_token, m.subject, confidence=m.confidence) for m in r.matches] for r in found]

        return Identified(side, await anyio.to_thread.run_sync(run), self.calibration.thresholds)

    def analyze(self, tenant: str, face_tokens: Sequence[str]) -> list[StoredFace]:
        return [self.lookup(tenant, t) for t in face_tokens]
