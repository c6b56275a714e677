"""Helpers for the video tests: the reference gallery, and videos made on the fly from the real clip.

No binary fixture is committed: every odd file (other codecs, rotation, variable frame rate,
truncation, audio only) is written here from ``short_hamilton_clip.mp4`` frames with PyAV.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from faceprint.engine import FaceEngine
from faceprint.video import read_frames

STILLS = {"lin-manuel-miranda.png": "Lin-Manuel Miranda", "alex-lacamoire.png": "Alex Lacamoire", "obama.jpg": "Barack Obama"}
ENROLLED = frozenset(STILLS.values())

# (extension, encoder, pixel format, encoder options): the formats the issue names
FORMATS = [
    (".mp4", "libx264", "yuv420p", {"preset": "ultrafast"}, "h264"),
    (".webm", "libvpx", "yuv420p", {"deadline": "realtime", "cpu-used": "8"}, "vp8"),
    (".webm", "libvpx-vp9", "yuv420p", {"deadline": "realtime", "cpu-used": "8"}, "vp9"),
    (".mov", "libx264", "yuv420p", {"preset": "ultrafast"}, "h264"),
    (".avi", "mjpeg", "yuvj420p", {}, "mjpeg"),
]


def distractor_images(lfw: Path, n: int) -> list[Path]:
    """The first image of ``n`` LFW people spread over the alphabet (every 5th person)."""
    people = sorted(p for p in (lfw / "images").iterdir() if p.is_dir())[::5]
    return [min(p.glob("*.jpg")) for p in people[:n]]


def embed_distractors(engine: FaceEngine, paths: list[Path], batch: int = 32) -> tuple[list[str], np.ndarray]:
    """Subject names and templates of the face nearest each image's centre (LFW's convention)."""
    names, vecs = [], []
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        imgs = [engine.load(p) for p in chunk]
        picked = []
        for p, img, faces in zip(chunk, imgs, engine.detect_batch(imgs), strict=True):
            if not faces:
                continue
            c = np.array([img.shape[1] / 2, img.shape[0] / 2])
            picked.append((p, img, min(faces, key=lambda f: float(np.linalg.norm((f.bbox[:2] + f.bbox[2:]) / 2 - c)))))
        embedded = engine.embed_faces([im for _, im, _ in picked], [[f] for _, _, f in picked])
        for (p, _, _), (face,) in zip(picked, embedded, strict=True):
            names.append(p.parent.name)
            vecs.append(face.embedding)
    return names, np.stack(vecs).astype(np.float32)


def clip_frames(clip: Path, start: int = 0, stop: int | None = None, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """Frames ``start:stop`` of a real clip as BGR arrays, optionally resized to ``size`` (w, h)."""
    out = []
    for f in read_frames(clip):
        if f.index < start:
            continue
        if stop is not None and f.index >= stop:
            break
        out.append(cv2.resize(f.image, size, interpolation=cv2.INTER_AREA) if size else f.image)
    return out


def write_video(
    path: Path,
    frames: Sequence[np.ndarray],
    *,
    encoder: str = "libx264",
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
    times: Sequence[float] | None = None,
    rate: int = 30,
    rotation: int | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode BGR frames; ``times`` (seconds) makes it variable-rate, ``rotation`` sets the display matrix."""
    h, w = frames[0].shape[:2]
    tb = Fraction(1, 1000) if times is not None else Fraction(1, rate)
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(encoder, rate=rate, options=options or {})
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt  # type: ignore[union-attr]
        stream.time_base = tb
        stream.codec_context.time_base = tb
        if rotation is not None:
            stream.set_display_rotation(rotation)  # type: ignore[union-attr]
        for k, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            frame.pts = round(times[k] * 1000) if times is not None else k
            frame.time_base = tb
            for packet in stream.encode(frame):  # type: ignore[union-attr]
                out.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            out.mux(packet)
    return path


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    rate = 44100
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout = "mono"  # type: ignore[union-attr]
        t = np.arange(int(seconds * rate)) / rate
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for k in range(0, len(tone), 1024):
            frame = av.AudioFrame.from_ndarray(tone[None, k : k + 1024].copy(), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, k
            for packet in stream.encode(frame):  # type: ignore[union-attr]
                out.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            out.mux(packet)
    return path
