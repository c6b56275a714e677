"""Pooled enrolment leaves the gallery as the in-process enrolment does: same faces, same rejections, same templates."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceprint.gallery import EnrolOptions, GalleryConfig, GalleryService, SearchOptions
from faceprint.gallery.enrol import EnrolItem
from faceprint.parallel.enrol import enrol_pooled

from .support import SHARED, lfw_photos


def _items(tmp_path: Path) -> list[EnrolItem]:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"nope")
    photos = lfw_photos(30)
    items = [EnrolItem(str(p), p, p.parent.name) for p in photos]
    items.append(EnrolItem(str(junk), junk, "junk"))
    group = SHARED / "gallery" / "test" / "obama_and_biden.jpg"
    items.append(EnrolItem(str(group), group, "pair"))  # MULTIPLE_FACES without --face
    items.append(EnrolItem(str(photos[0]) + "#again", photos[0], "again"))  # a duplicate within the run
    return items


def test_pooled_enrolment_equals_in_process(tmp_path: Path) -> None:
    items = _items(tmp_path)
    opts = EnrolOptions(batch_size=8)
    with GalleryService(GalleryConfig(data_dir=tmp_path / "data")) as svc:
        a, b = svc.create("seq"), svc.create("pool")
        seq = svc.enroll_items(a.token, items, opts)
        steps: list[tuple[int, int]] = []
        pooled = enrol_pooled(svc, b.token, items, opts, workers=2, progress=lambda d, t: steps.append((d, t)))
        assert len(pooled.enrolled) == len(seq.enrolled) >= 20
        assert sorted((r.source, r.code) for r in pooled.rejected) == sorted((r.source, r.code) for r in seq.rejected)
        assert {r.code for r in pooled.rejected} >= {"IMAGE_ERROR_UNSUPPORTED_FORMAT", "MULTIPLE_FACES"}
        assert pooled.duplicates == seq.duplicates == (str(items[0].image) + "#again",)
        assert steps[-1] == (len(items), len(items))
        assert [r.subject for r in pooled.enrolled] == [r.subject for r in seq.enrolled]  # stored in input order
        for s, p in zip(seq.enrolled, pooled.enrolled, strict=True):
            assert s.image_sha256 == p.image_sha256 and s.bbox is not None and p.bbox is not None
            np.testing.assert_allclose(s.bbox, p.bbox, atol=0.5)
            cos = float(np.dot(svc.store.get_embedding("default", s.token), svc.store.get_embedding("default", p.token)))
            assert cos >= 0.99999
        probe = Path(pooled.enrolled[0].subject)
        assert svc.search([b.token], SHARED / "lfw" / "images" / probe / f"{probe}_0001.jpg", SearchOptions(1, "subject", "1e-4", None)).known
        again = enrol_pooled(svc, b.token, items[:5], opts, workers=2)
        assert len(again.duplicates) == 5 and not again.enrolled
