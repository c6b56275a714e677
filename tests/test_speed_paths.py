"""The fast paths give exactly what the plain ones give: OpenCV JPEG decode, SCRFD sizing, batching."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from faceprint.engine import EngineConfig, FaceEngine
from faceprint.image import decode_bytes


def _pillow_reference(data: bytes) -> np.ndarray:
    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    return np.asarray(img.convert("RGB"))[:, :, ::-1]


def _jpeg(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def test_real_photos_decode_exactly_as_pillow(shared, vectron):
    paths = sorted((shared / "gallery").glob("*/*.jp*g")) + sorted((shared / "gallery").glob("*/*/*.jp*g"))
    paths += [vectron / "players.jpg", vectron / "yaoming.jpg"]
    for p in paths:
        data = p.read_bytes()
        np.testing.assert_array_equal(decode_bytes(data), _pillow_reference(data), err_msg=str(p))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation(shared, orientation):
    src = Image.open(shared / "gallery" / "train" / "obama" / "obama.jpg").convert("RGB").resize((300, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _jpeg(src, exif=exif.tobytes(), quality=95)
    out = decode_bytes(data)
    np.testing.assert_array_equal(out, _pillow_reference(data))
    assert out.flags["C_CONTIGUOUS"]


def test_grey_jpeg_and_trailing_bytes(shared):
    src = Image.open(shared / "gallery" / "train" / "obama" / "obama.jpg").resize((300, 200))
    for data in (_jpeg(src.convert("L")), _jpeg(src.convert("RGB")) + b"trailing junk"):
        np.testing.assert_array_equal(decode_bytes(data), _pillow_reference(data))


def test_scrfd_sizes_like_the_reference(engine):
    det = engine.detector
    # InsightFace's SCRFD: the long side to det_size, the other int(...) (not rounded)
    assert det._fit(np.zeros((800, 1237, 3), np.uint8)) == (640, 413, 413 / 800)
    assert det._fit(np.zeros((1137, 910, 3), np.uint8))[:2] == (512, 640)
    assert det.input_size(np.zeros((1137, 910, 3), np.uint8)) == (512, 640)  # padded to /32 only
    assert det.input_size(np.zeros((800, 1237, 3), np.uint8)) == (640, 416)


def test_batching_and_threads_do_not_change_embeddings(vectron):
    img = vectron / "players.jpg"
    one = FaceEngine(config=EngineConfig(threads=1))
    two = FaceEngine(config=EngineConfig(threads=2))
    a = np.stack([f.embedding for f in one.embed(img)])
    one.embedder.max_batch = 64  # all 22 faces in one call
    b = np.stack([f.embedding for f in one.embed(img)])
    c = np.stack([f.embedding for f in two.embed(img)])
    assert len(a) == 22
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
