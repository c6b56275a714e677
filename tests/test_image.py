"""Every bad input gets a stable code, and every legitimate format decodes (real photos)."""

import base64
import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from faceprint.errors import FaceprintError, ImageFormatError, ImageSizeError, ImageTooLarge, NoFaceFound
from faceprint.image import ImageLimits, decode_bytes, load_image

CODES = {"IMAGE_ERROR_UNSUPPORTED_FORMAT", "INVALID_IMAGE_SIZE", "IMAGE_FILE_TOO_LARGE"}


@pytest.fixture(scope="module")
def obama_bytes(photos):
    return (photos / "obama.jpg").read_bytes()


@pytest.fixture(scope="module")
def obama_pil(photos):
    return Image.open(photos / "obama.jpg").convert("RGB")


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, I am not an image", b"\xff\xd8\xff\xe0" + b"\x00" * 200, b"\x89PNG\r\n\x1a\n" + b"\x01" * 64],
    ids=["empty", "text", "jpeg-header-garbage", "png-header-garbage"],
)
def test_not_an_image(data):
    with pytest.raises(ImageFormatError) as e:
        decode_bytes(data)
    assert e.value.code == "IMAGE_ERROR_UNSUPPORTED_FORMAT"


def test_truncated_jpeg(obama_bytes):
    with pytest.raises(ImageFormatError):
        decode_bytes(obama_bytes[: len(obama_bytes) * 6 // 10])


def test_tiny_and_huge_sides(obama_pil):
    with pytest.raises(ImageSizeError) as e:
        decode_bytes(_encode(obama_pil.resize((40, 60)), "PNG"))
    assert e.value.code == "INVALID_IMAGE_SIZE"
    with pytest.raises(ImageSizeError):
        decode_bytes(_encode(Image.new("L", (4100, 64)), "PNG"))
    # the limits are configurable
    assert decode_bytes(_encode(obama_pil.resize((40, 60)), "PNG"), ImageLimits(min_side=16)).shape == (60, 40, 3)


def test_over_byte_limit(obama_bytes, photos):
    limits = ImageLimits(max_bytes=len(obama_bytes) - 1)
    for src in (obama_bytes, photos / "obama.jpg", base64.b64encode(obama_bytes).decode()):
        with pytest.raises(ImageTooLarge) as e:
            load_image(src, limits)
        assert e.value.code == "IMAGE_FILE_TOO_LARGE"


def _png_bomb(side: int) -> bytes:
    """A 1-bit PNG of side x side zeros: a few hundred KB on disk, side^2 pixels when decoded."""
    raw_row = b"\x00" + b"\x00" * ((side + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(raw_row) for _ in range(side)) + comp.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_decompression_bomb_refused_from_header():
    bomb = _png_bomb(40000)  # 1.6 gigapixels
    assert len(bomb) < 1_000_000
    tracemalloc.start()
    with pytest.raises(ImageSizeError):
        decode_bytes(bomb, ImageLimits(max_bytes=10_000_000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000_000  # nothing close to the 1.6 GB of pixels was allocated


def test_exif_orientation_is_honoured(engine, obama_pil):
    upright = np.asarray(obama_pil)[:, :, ::-1]
    rotated = obama_pil.transpose(Image.Transpose.ROTATE_90)  # stored sideways...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...with "rotate 90 CW to display" in EXIF
    loaded = decode_bytes(_encode(rotated, "JPEG", exif=exif.tobytes(), quality=95))
    assert loaded.shape == upright.shape
    a, b = engine.template(upright)[0], engine.template(loaded)[0]
    assert float(a.embedding @ b.embedding) > 0.9


@pytest.mark.parametrize("mode,fmt", [("L", "PNG"), ("RGBA", "PNG"), ("P", "PNG"), ("CMYK", "JPEG"), ("I;16", "PNG"), ("LA", "PNG")])
def test_modes_decode_and_still_find_the_face(engine, obama_pil, mode, fmt):
    img = Image.fromarray((np.asarray(obama_pil.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)) if mode == "I;16" else obama_pil.convert(mode)
    out = decode_bytes(_encode(img, fmt))
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert len(engine.detect(out)) == 1


def test_every_input_kind(obama_bytes, photos):
    ref = load_image(photos / "obama.jpg")
    b64 = base64.b64encode(obama_bytes).decode()
    for src in (str(photos / "obama.jpg"), obama_bytes, b64, "data:image/jpeg;base64," + b64, ref):
        np.testing.assert_array_equal(load_image(src), ref)
    assert load_image(ref[:, :, 0]).shape == ref.shape  # grey ndarray


def test_missing_file_and_bad_base64():
    with pytest.raises(ImageFormatError):
        load_image("/nonexistent/face.jpg")
    with pytest.raises(ImageFormatError):
        load_image("A" * 100 + "!!!")


def test_image_without_a_face(engine, vectron):
    jerseys = load_image(vectron / "gdp.jpg")[350:650, 0:500]  # a real photo region with no face in it
    with pytest.raises(NoFaceFound) as e:
        engine.template(jerseys)
    assert e.value.code == "NO_FACE_FOUND"
    assert engine.detect(np.full((300, 300, 3), 128, np.uint8)) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_fuzz_random_bytes(data):
    try:
        decode_bytes(data)
    except FaceprintError as exc:
        assert exc.code in CODES


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=12), keep=st.floats(0.05, 1.0))
def test_fuzz_mutated_jpeg(obama_bytes, cuts, keep):
    data = bytearray(obama_bytes[: max(1, int(len(obama_bytes) * keep))])
    for pos, val in cuts:
        data[pos % len(data)] = val
    try:
        out = decode_bytes(bytes(data))
        assert out.dtype == np.uint8 and out.shape[2] == 3
    except FaceprintError as exc:
        assert exc.code in CODES


def test_a_file_error_names_its_file_and_a_missing_one_has_its_own_code(tmp_path):
    gone = tmp_path / "gone.jpg"
    with pytest.raises(ImageFormatError) as e:
        load_image(gone)
    assert e.value.code == "IMAGE_ERROR_FILE_NOT_FOUND" and e.value.message == f"{gone}: no such file" and e.value.source == str(gone)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    with pytest.raises(ImageFormatError) as e:
        load_image(str(notes))
    assert e.value.code == "IMAGE_ERROR_UNSUPPORTED_FORMAT" and e.value.message.startswith(f"{notes}: not a decodable image")
    assert "Error" not in e.value.message  # no Pillow class name
    with pytest.raises(ImageFormatError) as e:
        decode_bytes(b"not a photo")  # bytes have no name: the message stays as it was
    assert e.value.message.startswith("not a decodable image")
