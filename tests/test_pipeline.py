"""The one pass (faceprint/pipeline.py) on real photos: every caller's templates equal what the
model seams give for the same detections, the aligned crop is warped once, and the pass runs
from plain, picklable arguments.

The reference is what each caller computed before the pass was shared: the detector's own faces,
each embedded by ``embedder.embed([(image, face)])`` (plus its mirror image for 1:1 templates).
"""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from faceprint import EngineConfig, FaceEngine, pipeline
from faceprint.align import similarity
from faceprint.embed.base import l2_normalize
from faceprint.gallery import GalleryConfig, GalleryService
from faceprint.gallery.enrol import EnrolOptions, prepare_one
from faceprint.pipeline import Found, Steps
from faceprint.service.batching import analyse
from faceprint.video.identify import embed_tracklets
from faceprint.video.tracklets import Candidate, Tracklet

MIN_COSINE = 0.99999


def seam_templates(engine: FaceEngine, img: np.ndarray, *, flip: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """(box, template) per face the detector finds, embedded one by one through the embedder seam."""
    out = []
    for f in engine.detector.detect(img):
        vec = engine.embedder.embed([(img, f)])[0]
        if flip:
            m_img, m_kps, m_box = similarity.mirror(img, f.kps, f.bbox)
            vec = l2_normalize(vec + engine.embedder.embed([(m_img, f.with_(kps=m_kps, bbox=m_box))])[0])
        out.append((f.bbox, vec))
    return out


def assert_same_templates(faces, reference) -> None:
    assert faces, "no face to compare"
    for face in faces:
        box, vec = min(reference, key=lambda r: float(np.abs(r[0] - face.bbox).sum()))
        np.testing.assert_allclose(box, face.bbox, atol=1e-3)
        assert float(face.embedding @ vec) >= MIN_COSINE


@pytest.fixture(scope="module")
def images(photos, vectron):
    return [cv2.imread(str(p)) for p in (photos / "obama.jpg", photos / "biden.jpg", photos / "obama2.jpg", vectron / "players.jpg")]


def test_engine_batch_and_single_calls_give_the_seam_templates(engine, images):
    refs = [seam_templates(engine, img) for img in images]
    for faces, ref in zip(engine.embed_batch(images), refs, strict=True):
        assert_same_templates(faces, ref)
    assert_same_templates(engine.embed(images[3]), refs[3])  # 22 players: the gate's suspects among them
    assert_same_templates(engine.analyze(images[0]), refs[0])
    face, n = engine.template(images[1], one_to_one=False)
    assert n == 1
    assert_same_templates([face], refs[1])


def test_one_to_one_templates_fuse_the_mirror_as_before(engine, images):
    face, _ = engine.template(images[0])
    assert_same_templates([face], seam_templates(engine, images[0], flip=True))
    verdict = engine.compare(images[0], images[2])
    a, b = seam_templates(engine, images[0], flip=True)[0][1], seam_templates(engine, images[2], flip=True)[0][1]
    assert abs(verdict.similarity - float(a @ b)) < 1e-5
    assert verdict.match("1e-5") and verdict.faces_a == verdict.faces_b == 1


def test_service_batcher_enrolment_search_and_video_give_the_seam_templates(engine, images, photos, tmp_path):
    refs = [seam_templates(engine, img) for img in images]
    for together in (True, False):
        for faces, ref in zip(analyse(engine, images, together), refs, strict=True):
            assert_same_templates(faces, ref)
            assert all(f.landmarks is not None and f.landmarks.shape == (106, 2) for f in faces)
    new = prepare_one(engine, images[1], "biden", EnrolOptions(keep_thumbnail=True))
    assert float(new.embedding @ refs[1][0][1]) >= MIN_COSINE
    assert new.thumbnail is not None and cv2.imdecode(np.frombuffer(new.thumbnail, np.uint8), cv2.IMREAD_COLOR).shape == (112, 112, 3)
    with GalleryService(GalleryConfig(data_dir=tmp_path), engine=engine) as svc:
        svc.create("g")
        report = svc.enroll("g", [photos / "obama.jpg"], "obama")
        assert float(svc.embedding(report.enrolled[0].token) @ refs[0][0][1]) >= MIN_COSINE
        result = svc.search("g", images[2])
        assert_same_templates([result.face], refs[2])
        assert result.subject == "obama"
    face = engine.detect(images[0])[0]
    x1, y1, x2, y2 = (int(v) for v in face.bbox)
    crop = images[0][max(y1 - 80, 0) : y2 + 80, max(x1 - 80, 0) : x2 + 80]
    shift = np.array([max(x1 - 80, 0), max(y1 - 80, 0)], np.float32)
    moved = face.with_(bbox=face.bbox - np.tile(shift, 2), kps=face.kps - shift)
    track = Tracklet(1, [0], [0.0], [face.bbox], [True], [Candidate(0.0, 0, 90.0, face.score, crop, moved, face.bbox)])
    templates, n = embed_tracklets(engine, [track])
    assert n == 1 and float(templates[0] @ engine.embedder.embed([(crop, moved)])[0]) >= MIN_COSINE


def test_the_aligned_crop_is_warped_once_per_face(engine, images, monkeypatch):
    warps = []
    original = cv2.warpAffine

    def counting(*args, **kwargs):
        warps.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(similarity.cv2, "warpAffine", counting)
    faces = engine.embed_batch(images[:3])
    assert sum(len(f) for f in faces) == 3 and len(warps) == 3  # quality and template share one 112x112 crop
    found = pipeline.detect(engine.models, images[:1], engine.steps())[0]
    np.testing.assert_array_equal(found.crops[0], original(images[0], similarity.estimate_similarity(found.faces[0].kps, similarity.ARCFACE_TEMPLATE), (112, 112)))


def test_the_gate_embeds_a_suspect_and_its_mirror_once_and_a_kept_one_is_not_embedded_again(engine, images, monkeypatch):
    (raw,) = pipeline.detect(engine.models, images[3:], Steps(gate=False, embed=False))
    suspects = engine.models.gate.suspects(list(raw.faces))
    assert suspects, "players.jpg has low-scoring faces for the gate to check"
    rows = []
    original = engine.embedder.raw_crops

    def counting(crops):
        rows.append(len(crops))
        return original(crops)

    monkeypatch.setattr(engine.embedder, "raw_crops", counting)
    (faces,) = engine.embed_batch(images[3:])
    assert len(faces) == 22
    assert sum(rows) == 2 * len(suspects) + (len(faces) - len(suspects))


def test_found_only_keeps_faces_and_crops_together(engine, images):
    (found,) = pipeline.detect(engine.models, images[3:], Steps(embed=False))
    picked = found.only(5, 2)
    assert [f.area for f in picked.faces] == [found.faces[5].area, found.faces[2].area]
    assert picked.crops[0] is found.crops[5] and picked.crops[1] is found.crops[2]
    assert picked.template(0) is found.template(5) and picked.template(1) is found.template(2)
    (embedded,) = pipeline.embed(engine.models, [picked])
    whole = pipeline.embed(engine.models, [found])[0]
    assert float(embedded[0].embedding @ whole[5].embedding) >= MIN_COSINE
    assert pipeline.embed(engine.models, []) == []


def test_run_takes_plain_picklable_arguments_and_matches_the_engine(engine, photos):
    config = EngineConfig(pack="arcface-s")
    path = str(photos / "obama.jpg")
    again = pickle.loads(pickle.dumps((config, [path])))  # noqa: S301 - the test's own arguments, round-tripped as a process pool does
    faces = pipeline.run(*again)
    assert_same_templates(faces[0], [(f.bbox, f.embedding) for f in engine.embed(path)])
    assert pipeline.models_for(config) is pipeline.models_for(EngineConfig(pack="arcface-s"))  # built once per process
    assert FaceEngine(config=config).config == config  # an engine's config rebuilds its pass


def test_found_of_ready_faces_aligns_when_embedding(engine, images):
    face = engine.detect(images[1])[0]
    (faces,) = pipeline.embed(engine.models, [Found.of(images[1], [face])])
    assert float(faces[0].embedding @ engine.embedder.embed([(images[1], face)])[0]) >= MIN_COSINE
