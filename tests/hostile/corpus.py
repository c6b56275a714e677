"""Hostile inputs, written on the fly: no binary fixture is committed.

Every file here is small on disk and expensive (or crashing) to decode: images whose header
declares a huge raster, videos with frames under 48 px or over 4096 px, truncated or wrongly
labelled videos, and zip bombs. ``tests/hostile`` and ``bench/hostile.py`` share them.
"""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

# (extension, encoder, pixel format): the containers the issue names, each with a codec it holds
VIDEO_FORMATS = {
    ".mp4": ("libx264", "yuv420p"),
    ".avi": ("mjpeg", "yuvj420p"),
    ".mkv": ("libx264", "yuv420p"),
}
TINY = (32, 24)  # under the 48 px minimum side
OVERSIZE = (4160, 64)  # over the 4096 px maximum side, few pixels in all


def video_bytes(
    ext: str, size: tuple[int, int], frames: int = 3, fps: int = 10
) -> bytes:
    """A valid video of ``frames`` noise frames of ``size`` (w, h) in the container of ``ext``."""
    codec, pix = VIDEO_FORMATS[ext]
    buf = io.BytesIO()
    fmt = {".mp4": "mp4", ".avi": "avi", ".mkv": "matroska"}[ext]
    rng = np.random.default_rng(size[0] * 7 + size[1])
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = pix
        stream.time_base = Fraction(1, fps)
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        for i in range(frames):
            img = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def hostile_videos() -> dict[str, bytes]:
    """name -> bytes: tiny and over-size frames in mp4, avi and mkv, plus truncated and mislabelled files."""
    out: dict[str, bytes] = {}
    for ext in VIDEO_FORMATS:
        out[f"tiny{ext}"] = video_bytes(ext, TINY)
        out[f"oversize{ext}"] = video_bytes(ext, OVERSIZE, frames=2)
    out["truncated.mp4"] = video_bytes(".mp4", (64, 64), frames=10)[:600]
    out["png-as.mp4"] = png_bytes((64, 64))
    out["text-as.mkv"] = b"this is not a video\n" * 20
    return out


def mjpeg_declared(size: tuple[int, int] = (16000, 16000)) -> bytes:
    """An MJPEG AVI whose header and frame declare ``size``: a 16000x16000 frame costs ~1 GB to decode."""
    small = video_bytes(".avi", (64, 64), frames=1)
    jpeg = _jpeg_declared(size)
    w, h = size
    # patch the AVI's main header, stream header and BITMAPINFOHEADER sizes, then swap the frame
    data = bytearray(small)
    avih = data.find(b"avih") + 8
    struct.pack_into("<II", data, avih + 32, w, h)
    strf = data.find(b"strf") + 8
    struct.pack_into("<ii", data, strf + 4, w, h)
    start = data.find(b"\xff\xd8")
    end = data.find(b"\xff\xd9", start) + 2
    body = bytes(data[:start]) + jpeg + bytes(data[end:])
    # fix the chunk size of the frame ("00dc") and the RIFF / movi list sizes
    fixed = bytearray(body)
    chunk = fixed.rfind(b"00dc", 0, start)
    struct.pack_into("<I", fixed, chunk + 4, len(jpeg) + (end - start - (end - start)))
    struct.pack_into("<I", fixed, 4, len(fixed) - 8)
    movi = fixed.find(b"movi")
    delta = len(jpeg) - (end - start)
    old = struct.unpack_from("<I", fixed, movi - 4)[0]
    struct.pack_into("<I", fixed, movi - 4, old + delta)
    return bytes(fixed)


def _jpeg_declared(size: tuple[int, int]) -> bytes:
    """A tiny baseline JPEG whose SOF0 declares ``size`` (the scan is a few bytes: decoders pad grey)."""
    buf = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buf, "JPEG", quality=50)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, size[1], size[0])
    return bytes(data)


def png_bytes(size: tuple[int, int], mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 200).save(buf, "PNG")
    return buf.getvalue()


def png_rgba16(side: int = 4096) -> bytes:
    """A 16-bit RGBA PNG of ``side`` x ``side`` (about 130 KB for 4096: a flat colour compresses well)."""
    row = b"\x00" + b"\x80\x00\x40\x00\x20\x00\xff\xff" * side
    raw = zlib.compress(row * side, 9)
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", raw)
        + _chunk(b"IEND", b"")
    )


def png_declared(width: int, height: int) -> bytes:
    """A PNG header declaring ``width`` x ``height`` 16-bit RGBA with almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def image_bombs() -> dict[str, bytes]:
    """name -> bytes: a header that declares far more pixels than the file holds, in each format we decode."""
    out = {
        "png-rgba16-65535.png": png_declared(65535, 65535),
        "png-rgba16-4096x100000.png": png_declared(4096, 100_000),
    }
    out["jpeg-65000.jpg"] = _jpeg_declared((65000, 65000))
    gif = bytearray(_saved("GIF", (16, 16)))
    struct.pack_into("<HH", gif, 6, 65535, 65535)  # logical screen
    struct.pack_into(
        "<HH", gif, gif.find(b"\x2c") + 5, 65535, 65535
    )  # image descriptor
    out["gif-65535.gif"] = bytes(gif)
    bmp = bytearray(_saved("BMP", (16, 16)))
    struct.pack_into("<ii", bmp, 18, 60000, 60000)
    out["bmp-60000.bmp"] = bytes(bmp)
    tif = Image.new("RGBA", (16, 16))
    buf = io.BytesIO()
    tif.save(buf, "TIFF")
    out["tiff-declared.tif"] = _tiff_declared(buf.getvalue(), 60000)
    webp = bytearray(_saved("WEBP", (16, 16)))
    out["webp-truncated.webp"] = bytes(webp[: len(webp) // 2])
    out["png-truncated.png"] = png_rgba16(512)[:300]
    out["gif-as.jpg"] = _saved("GIF", (64, 64))
    out["random.bin"] = (
        np.random.default_rng(7).integers(0, 255, 4096, dtype=np.uint8).tobytes()
    )
    return out


def _saved(fmt: str, size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, fmt)
    return buf.getvalue()


def _tiff_declared(data: bytes, side: int) -> bytes:
    """Rewrite the ImageWidth/ImageLength tags (256/257) of a little-endian TIFF's first IFD."""
    b = bytearray(data)
    ifd = struct.unpack_from("<I", b, 4)[0]
    n = struct.unpack_from("<H", b, ifd)[0]
    for k in range(n):
        at = ifd + 2 + 12 * k
        tag, typ = struct.unpack_from("<HH", b, at)
        if tag in (256, 257):
            if typ == 3:
                struct.pack_into("<H", b, at + 8, min(side, 65535))
            else:
                struct.pack_into("<I", b, at + 8, side)
    return bytes(b)


def zip_bomb(entries: int = 240, entry_mib: int = 10) -> bytes:
    """``entries`` files of ``entry_mib`` MiB of zeros each: about 2.5 MB on the wire for 240 x 10 MiB.

    Written by hand (one deflate stream reused for every entry), as zipfile would take ~40 s.
    """
    size = entry_mib << 20
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(b"\x00" * size) + comp.flush()
    crc = zlib.crc32(b"\x00" * size) & 0xFFFFFFFF
    local, central = bytearray(), bytearray()
    for i in range(entries):
        name = f"frame{i:04d}.png".encode()
        offset = len(local)
        local += (
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(body),
                size,
                len(name),
                0,
            )
            + name
            + body
        )
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(body), size,
                               len(name), 0, 0, 0, 0, 0, offset) + name  # fmt: skip
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(central), len(local), 0
    )
    return bytes(local + central + end)


def write_all(folder: Path, files: dict[str, bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        p = folder / name
        p.write_bytes(data)
        paths.append(p)
    return paths
