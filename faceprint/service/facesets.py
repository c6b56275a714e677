"""What the faceset endpoints do, over GalleryService.

Face++ semantics kept here: ``force_merge`` on create, ``check_empty`` on delete,
``RemoveAllFaceTokens``, ``failure_detail`` for tokens that could not be added or removed, pages
of 100 face tokens (getdetail) and of 1,000 facesets (getfacesets) from ``start`` (1-based). The
limits are the server's :class:`~.config.ServiceConfig`: face tokens per create/addface call
(``max_add_tokens``, 5 as Face++; the router refuses more with INVALID_FACE_TOKENS_SIZE) and per
removeface call (``max_remove_tokens``, 1,000), faces per faceset (``faceset_capacity``) and
facesets per tenant (``max_facesets``, FACESET_QUOTA_EXCEEDED). A face token is the row of its face
in the gallery store, so ``addface`` is one store transaction (capacity checked under the
faceset's row lock, on every node) and there is no membership table or process lock here.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import (
    FacesetExist,
    FacesetNotEmpty,
    FacesetQuotaExceeded,
    InvalidFacesetToken,
    InvalidFaceToken,
    InvalidOuterId,
    MissingArguments,
    NewOuterIdExist,
)
from ..gallery import FaceSet, FaceSetUpdate, GalleryService
from ..gallery.types import NewFaceSet
from .config import ServiceConfig

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
    """By faceset_token (INVALID_FACESET_TOKEN) or else outer_id (INVALID_OUTER_ID), within the tenant: one read."""
    if faceset_token is None and outer_id is None:
        raise MissingArguments("faceset_token or outer_id is required", param="faceset_token, outer_id")
    try:
        return gallery.find(tenant, faceset_token, outer_id)
    except InvalidOuterId:
        raise InvalidOuterId("no faceset with this outer_id", param="outer_id") from None


@dataclass(frozen=True)
class Ref:
    """A faceset as the request named it; resolved once, by the call that uses it."""

    token: str | None
    outer_id: str | None


class Facesets:
    def __init__(self, config: ServiceConfig, gallery: GalleryService, pack: str, dim: int) -> None:
        self.config = config
        self.gallery = gallery
        self.pack, self.dim = pack, dim

    def get(self, tenant: str, faceset_token: str | None, outer_id: str | None) -> FaceSet:
        return resolve_faceset(self.gallery, tenant, faceset_token, outer_id)

    def create(
        self, tenant: str, *, outer_id: str | None, display_name: str, tags: Sequence[str], user_data: str,
        face_tokens: Sequence[str], force_merge: bool,
    ) -> Change:  # fmt: skip
        try:
            if self.gallery.galleries(0, 1, tenant=tenant).total >= self.config.max_facesets:
                raise FacesetQuotaExceeded(f"a tenant may hold at most {self.config.max_facesets} facesets")
            fs = self.gallery.create_for(
                NewFaceSet(self.pack, self.dim, outer_id, display_name, tuple(tags), user_data, "auto", tenant)
            )
        except FacesetExist:
            if not force_merge or outer_id is None:
                raise FacesetExist("a faceset with this outer_id exists", param="outer_id") from None
            fs = self.gallery.find(tenant, None, outer_id)
        return self.add(tenant, fs, face_tokens) if face_tokens else Change(fs)

    def add(self, tenant: str, fs: FaceSet | Ref, face_tokens: Sequence[str]) -> Change:
        """One store transaction: the faces join, capacity checked under the faceset's row lock."""
        if isinstance(fs, Ref) and fs.token is None and fs.outer_id is None:
            raise MissingArguments("faceset_token or outer_id is required", param="faceset_token, outer_id")
        ref = (fs.token, fs.outer_id)
        try:
            done = self.gallery.add_detected(ref, face_tokens, self.config.faceset_capacity, tenant=tenant)
        except InvalidOuterId:
            raise InvalidOuterId("no faceset with this outer_id", param="outer_id") from None
        return Change(done.faceset, added=len(done.added), failures=[Failure(t, r) for t, r in done.failures])

    def remove(self, tenant: str, fs: FaceSet, face_tokens: Sequence[str]) -> Change:
        """Erase the faces: a face token names its one row, so nothing of it is left anywhere."""
        if list(face_tokens) == [REMOVE_ALL]:
            n = self._remove_all(tenant, fs)
            return Change(self.gallery.find(tenant, fs.token, None), removed=n)
        wanted = list(dict.fromkeys(face_tokens))
        present = [t for t in wanted if self._in_gallery(tenant, fs, t)]
        n = self.gallery.remove_faces(fs.token, present, tenant=tenant) if present else 0
        failures = [Failure(t, "INVALID_FACE_TOKEN") for t in wanted if t not in present]
        return Change(self.gallery.find(tenant, fs.token, None), removed=n, failures=failures)

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
        nxt = None if page.next_start is None else page.next_start + 1
        return Detail(fs, [r.token for r in page.items], nxt)

    def delete(self, tenant: str, fs: FaceSet, check_empty: bool) -> FaceSet:
        if check_empty and fs.face_count:
            raise FacesetNotEmpty(f"the faceset holds {fs.face_count} faces; pass check_empty=0 to delete it anyway")
        self.gallery.delete(fs.token, tenant=tenant)
        return fs

    def list(self, tenant: str, tags: Sequence[str], start: int) -> tuple[list[FaceSet], int | None]:
        """Facesets carrying every one of ``tags``, a page of 1,000 from ``start`` (1-based)."""
        if len(tags) <= 1:
            page = self.gallery.galleries(start - 1, LIST_PAGE, tag=tags[0] if tags else None, tenant=tenant)
            return list(page.items), None if page.next_start is None else page.next_start + 1
        everything = self.gallery.galleries(0, self.config.max_facesets, tag=tags[0], tenant=tenant).items
        matching = [fs for fs in everything if set(tags) <= set(fs.tags)]
        chunk = matching[start - 1 : start - 1 + LIST_PAGE]
        return chunk, start + LIST_PAGE if start - 1 + LIST_PAGE < len(matching) else None

    def face_facesets(self, tenant: str, faceset_token: str | None) -> builtins.list[FaceSet]:
        """The one faceset a face is in (none for a face not yet added)."""
        if faceset_token is None:
            return []
        try:
            return [self.gallery.find(tenant, faceset_token, None)]
        except InvalidFacesetToken:  # deleted meanwhile
            return []
