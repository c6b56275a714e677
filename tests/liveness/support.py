"""Helpers for the liveness tests: real footage, cut and re-encoded; stills shown to a camera."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from faceprint.liveness.track import FrameObservation, retime

ROOT = Path(__file__).resolve().parents[2]
LABELS = json.loads((ROOT / "bench" / "liveness_labels.json").read_text())
SHOT = tuple(LABELS["tracks"][0]["frames"])  # (82, 210): the labelled shot
CLIPS = {c["name"]: c for c in LABELS["genuine_clips"]["clips"]}


def cut(obs: list[FrameObservation], first: int, last: int) -> list[FrameObservation]:
    """Observations of clip frames first..last (inclusive), re-timed to start at 0."""
    part = obs[first - SHOT[0] : last - SHOT[0] + 1]
    return retime(part, np.array([o.time for o in part]) - part[0].time)


def write_clip(path: Path, images: list[np.ndarray], fps: Fraction = Fraction(30000, 1001)) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("h264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = images[0].shape[1], images[0].shape[0], "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for im in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(im, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def on_frame(img: np.ndarray, size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """A photo at 300 px high, centred on a dim frame, as a webcam sees a photo held up to it."""
    w, h = size
    s = 300 / img.shape[0]
    im = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)[:, :w]
    out = np.full((h, w, 3), 40, np.uint8)
    y, x = (h - im.shape[0]) // 2, (w - im.shape[1]) // 2
    out[y : y + im.shape[0], x : x + im.shape[1]] = im
    return out
