"""What the faceset endpoints do, over GalleryService and the face-token store.

Face++ semantics kept here: ``force_merge`` on create, ``check_empty`` on delete, at most 5
face tokens per addface call, ``RemoveAllFaceTokens``, ``failure_detail`` for tokens that could
not be added, pages of 100 face tokens (getdetail) and of 1,000 facesets (getfacesets) from
``start`` (1-based), a capacity per faceset.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import FacesetExist, InvalidFaceToken, InvalidOuterId
from ..gallery import FaceSet, FaceSetUpdate, GalleryService, NewFace
from ..gallery.types import NewFaceSet
from .config import ServiceConfig
from .errors import FacesetNotEmpty, FacesetQuotaExceeded, MissingArguments, NewOuterIdExist
from .tokens import TokenStore

REMOVE_ALL = "RemoveAllFaceTokens"
PAGE = 100  # face tokens per faceset/getdetail page, as Face++
LIST_PAGE = 1000  # facesets per faceset/getfacesets page, as Face++


@dataclass(frozen=True)
class Failure:
    face_token: str
    reason: str


@dataclass(frozen=True)
class Change:
    faceset: FaceSet
    added: int = 0
    removed: int = 0
    failures: list[Failure] = field(default_factory=list)


@dataclass(frozen=True)
class Detail:
    faceset: FaceSet
    face_tokens: list[str]
    next: int | None  # ``start`` of the next page, None on the last


def resolve_faceset(gallery: GalleryService, tenant: str, faceset_token: str | None, outer_id: str | None) -> FaceSet:
    """By faceset_token (INVALID_FACESET_TOKEN) or else outer_id (INVALID_OUTER_ID), within the tenant."""
    if faceset_token is not None:
        return gallery.store.get_faceset(tenant, token=faceset_token)
    if outer_id is not None:
        try:
            return gallery.store.get_faceset(tenant, outer_id=outer_id)
        except InvalidOuterId:
            raise InvalidOuterId("no faceset with this outer_id", param="outer_id") from None
    raise MissingArguments("faceset_token or outer_id is required", param="faceset_token, outer_id")


class Facesets:
    def __init__(self, config: ServiceConfig, gallery: GalleryService, tokens: TokenStore, pack: str, dim: int) -> None:
        self.config = config
        self.gallery = gallery
        self.tokens = tokens
        self.pack, self.dim = pack, dim
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, faceset_token: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(faceset_token, threading.Lock())

    def get(self, tenant: str, faceset_token: str | None, outer_id: str | None) -> FaceSet:
        return resolve_faceset(self.gallery, tenant, faceset_token, outer_id)

    def create(
        self, tenant: str, *, outer_id: str | None, display_name: str, tags: Sequence[str], user_data: str,
        face_tokens: Sequence[str], force_merge: bool,
    ) -> Change:  # fmt: skip
        try:
            if self.gallery.store.list_facesets(tenant, 0, 1).total >= self.config.max_facesets:
                raise FacesetQuotaExceeded(f"a tenant may hold at most {self.config.max_facesets} facesets")
            fs = self.gallery.create_for(
                NewFaceSet(self.pack, self.dim, outer_id, display_name, tuple(tags), user_data, "auto", tenant)
            )
        except FacesetExist:
            if not force_merge or outer_id is None:
                raise FacesetExist("a faceset with this outer_id exists", param="outer_id") from None
            fs = self.gallery.store.get_faceset(tenant, outer_id=outer_id)
        return self.add(tenant, fs, face_tokens) if face_tokens else Change(fs)

    def add(self, tenant: str, fs: FaceSet, face_tokens: Sequence[str]) -> Change:
        failures: list[Failure] = []
        with self._lock(fs.token):
            fs = self.gallery.store.get_faceset(tenant, token=fs.token)
            present = self.tokens.members(fs.token, list(face_tokens))
            room = self.config.faceset_capacity - fs.face_count
            new: list[NewFace] = []
            names: list[str] = []
            for tok in dict.fromkeys(face_tokens):
                if tok in present:
                    continue
                try:
                    stored = self.tokens.get(tenant, tok)
                except InvalidFaceToken:
                    failures.append(Failure(tok, "INVALID_FACE_TOKEN"))
                    continue
                if stored.pack != fs.pack:
                    failures.append(Failure(tok, "PACK_MISMATCH"))
                    continue
                if len(new) >= room:
                    failures.append(Failure(tok, "QUOTA_EXCEEDED"))
                    continue
                f = stored.face
                q = f.quality.score if f.quality is not None else None
                new.append(NewFace(f.embedding, stored.user_id, tuple(float(v) for v in f.bbox), q))  # type: ignore[arg-type]
                names.append(tok)
            if new:
                records = self.gallery.add_embeddings(fs.token, new, tenant=tenant)
                self.tokens.join(fs.token, [(t, r.token) for t, r in zip(names, records)])
            fs = self.gallery.store.get_faceset(tenant, token=fs.token)
        return Change(fs, added=len(new), failures=failures)

    def remove(self, tenant: str, fs: FaceSet, face_tokens: Sequence[str]) -> Change:
        with self._lock(fs.token):
            if list(face_tokens) == [REMOVE_ALL]:
                n = self._remove_all(tenant, fs)
                return Change(self.gallery.store.get_faceset(tenant, token=fs.token), removed=n)
            wanted = list(dict.fromkeys(face_tokens))
            mapped = self.tokens.members(fs.token, wanted)
            # Faces enrolled through the library are named by their gallery token directly.
            direct = [t for t in wanted if t not in mapped and self._in_gallery(tenant, fs, t)]
            gallery_tokens = list(mapped.values()) + direct
            n = self.gallery.remove_faces(fs.token, gallery_tokens, tenant=tenant) if gallery_tokens else 0
            self.tokens.leave(fs.token, list(mapped.values()))
            failures = [Failure(t, "INVALID_FACE_TOKEN") for t in wanted if t not in mapped and t not in direct]
            return Change(self.gallery.store.get_faceset(tenant, token=fs.token), removed=n, failures=failures)

    def _in_gallery(self, tenant: str, fs: FaceSet, token: str) -> bool:
        try:
            return self.gallery.face(token, tenant=tenant).faceset_token == fs.token
        except InvalidFaceToken:
            return False

    def _remove_all(self, tenant: str, fs: FaceSet) -> int:
        total = 0
        while True:
            page = self.gallery.faces(fs.token, 0, 10_000, tenant=tenant)
            if not page.items:
                break
            total += self.gallery.remove_faces(fs.token, [r.token for r in page.items], tenant=tenant)
        self.tokens.leave(fs.token, None)
        return total

    def update(
        self, tenant: str, fs: FaceSet, *, new_outer_id: str | None, display_name: str | None, user_data: str | None,
        tags: Sequence[str] | None,
    ) -> FaceSet:  # fmt: skip
        if new_outer_id is None and display_name is None and user_data is None and tags is None:
            raise MissingArguments("pass at least one of these", param="new_outer_id, display_name, user_data, tags")
        change = FaceSetUpdate(new_outer_id, display_name, None if tags is None else tuple(tags), user_data)
        try:
            return self.gallery.update(fs.token, change, tenant=tenant)
        except FacesetExist:
            raise NewOuterIdExist("new_outer_id is taken") from None

    def detail(self, tenant: str, fs: FaceSet, start: int) -> Detail:
        page = self.gallery.faces(fs.token, start - 1, PAGE, tenant=tenant)
        gallery_tokens = [r.token for r in page.items]
        named = self.tokens.from_gallery(gallery_tokens)
        tokens = [named[g][0] if g in named else g for g in gallery_tokens]
        nxt = None if page.next_start is None else page.next_start + 1
        return Detail(fs, tokens, nxt)

    def delete(self, tenant: str, fs: FaceSet, check_empty: bool) -> FaceSet:
        with self._lock(fs.token):
            fs = self.gallery.store.get_faceset(tenant, token=fs.token)
            if check_empty and fs.face_count:
                raise FacesetNotEmpty(f"the faceset holds {fs.face_count} faces; pass check_empty=0 to delete it anyway")
            self.gallery.delete(fs.token, tenant=tenant)
            self.tokens.leave(fs.token, None)
        return fs

    def list(self, tenant: str, tags: Sequence[str], start: int) -> tuple[list[FaceSet], int | None]:
        """Facesets carrying every one of ``tags``, a page of 1,000 from ``start`` (1-based)."""
        if len(tags) <= 1:
            page = self.gallery.store.list_facesets(tenant, start - 1, LIST_PAGE, tags[0] if tags else None)
            return list(page.items), None if page.next_start is None else page.next_start + 1
        everything = self.gallery.store.list_facesets(tenant, 0, self.config.max_facesets, tags[0]).items
        matching = [fs for fs in everything if set(tags) <= set(fs.tags)]
        chunk = matching[start - 1 : start - 1 + LIST_PAGE]
        return chunk, start + LIST_PAGE if start - 1 + LIST_PAGE < len(matching) else None

    def face_facesets(self, tenant: str, face_token: str) -> list[FaceSet]:
        out = []
        for token in self.tokens.facesets_of(face_token):
            try:
                out.append(self.gallery.store.get_faceset(tenant, token=token))
            except Exception:  # deleted meanwhile
                continue
        return out
