"""``minifasnet``: MiniVision's two trained PAD networks, fused, on onnxruntime (no torch).

Each network sees an 80x80 BGR crop around the detected face box, enlarged about the box
centre (x2.7 for MiniFASNetV2, x4.0 for MiniFASNetV1SE), shrunk when the image is too small for
that and shifted back inside the image, as the networks were trained (Silent-Face's
``CropImage``). Pixels go in as 0..255 floats. The live probability of a frame is the mean of
the two networks' softmax for class 1 ("live"); the attack score is one minus it, so the
detector fits the PAD interface (0 bona fide .. 1 attack). A clip's score is the median over up
to ``max_frames`` (30) evenly spaced frames of the track, run as one batch.

The operating ``threshold`` is data (``faceprint/data/pad_thresholds.json``), calibrated by
bench/pad.py for a stated BPCER on part of NUAA's subjects and checked on the others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from ...models.onnx import make_session
from ...types import Face
from .base import PADDetector, PADOptions
from .minifasnet_net import INPUT, build_graph
from .torchfile import load_state_dict
from .weights import MINIFASNET, locate

SIZE = 80
LIVE = 1  # the networks' class index for a live face


@dataclass(frozen=True)
class Calibration:
    threshold: float
    protocol: str
    bpcer_target: float

    @staticmethod
    def load(detector: str) -> Calibration:
        data = json.loads(resources.files("faceprint.data").joinpath("pad_thresholds.json").read_text())
        d = data[detector]
        return Calibration(float(d["threshold"]), str(d["protocol"]), float(d["bpcer_target"]))


def crop_box(width: int, height: int, face: Face, scale: float) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) inclusive: the face box enlarged by ``scale`` about its centre, inside the image."""
    x1, y1, x2, y2 = (float(v) for v in face.bbox)
    left, top = int(x1), int(y1)
    bw, bh = max(int(x2 - x1 + 1), 1), max(int(y2 - y1 + 1), 1)
    s = min((height - 1) / bh, (width - 1) / bw, scale)
    cx, cy = left + bw / 2, top + bh / 2
    a, b, c, d = cx - bw * s / 2, cy - bh * s / 2, cx + bw * s / 2, cy + bh * s / 2
    if a < 0:
        a, c = 0, c - a
    if b < 0:
        b, d = 0, d - b
    if c > width - 1:
        a, c = a - (c - width + 1), width - 1
    if d > height - 1:
        b, d = b - (d - height + 1), height - 1
    return int(a), int(b), int(c), int(d)


def crop(image: np.ndarray, face: Face, scale: float) -> np.ndarray:
    """The network input for one face: (80, 80, 3) uint8 BGR."""
    a, b, c, d = crop_box(image.shape[1], image.shape[0], face, scale)
    return cv2.resize(image[b : d + 1, a : c + 1], (SIZE, SIZE))


@dataclass(frozen=True)
class _Net:
    scale: float
    session: ort.InferenceSession

    def probs(self, crops: np.ndarray) -> np.ndarray:
        """(N, 80, 80, 3) uint8 BGR -> (N, 3) softmax."""
        x = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)
        out: np.ndarray = self.session.run(None, {INPUT: x})[0]
        return out


@lru_cache(maxsize=8)
def _networks(paths: tuple[Path, ...], threads: int | None) -> tuple[_Net, ...]:
    nets = []
    for wf, path in zip(MINIFASNET.files, paths, strict=True):
        graph = build_graph(load_state_dict(path), wf.name).SerializeToString()
        nets.append(_Net(float(wf.role.split()[-1]), make_session(graph, threads, rewrite=False)))
    return tuple(nets)


class MiniFASNetDetector(PADDetector):
    name = "minifasnet"
    summary = "MiniVision MiniFASNetV2 + V1SE (Apache-2.0, user-supplied weights): 1 - fused live probability"
    max_frames = 30
    probability = True

    def __init__(self, options: PADOptions | None = None) -> None:
        super().__init__(options)
        found = locate(MINIFASNET, self.options.data_dir)
        self.nets = _networks(tuple(found[wf.name] for wf in MINIFASNET.files), self.options.threads)
        self.calibration = Calibration.load(self.name)
        self.threshold = self.calibration.threshold

    def network_probs(self, pairs: Sequence[tuple[np.ndarray, Face]]) -> list[np.ndarray]:
        """Each network's (N, 3) softmax for the (image, face) pairs, in ``nets`` order."""
        if not pairs:
            return [np.zeros((0, 3), np.float32) for _ in self.nets]
        return [net.probs(np.stack([crop(im, f, net.scale) for im, f in pairs])) for net in self.nets]

    def live_probability(self, pairs: Sequence[tuple[np.ndarray, Face]]) -> np.ndarray:
        """(N,) fused live probability: the mean of both networks' class-1 softmax."""
        probs = self.network_probs(pairs)
        return np.mean([p[:, LIVE] for p in probs], axis=0) if pairs else np.zeros(0)

    def score_faces(self, pairs: Sequence[tuple[np.ndarray, Face]]) -> list[float]:
        return [float(1.0 - p) for p in self.live_probability(pairs)]

    def score_crop(self, crop: np.ndarray) -> float:
        """A crop that is the whole face (no context): scored as a face filling the image."""
        h, w = crop.shape[:2]
        face = Face(bbox=np.array([0, 0, w - 1, h - 1], np.float32), score=1.0, kps=np.zeros((5, 2), np.float32))
        return self.score_faces([(crop, face)])[0]

    def describe(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "protocol": self.calibration.protocol,
                "bpcer_target": self.calibration.bpcer_target}  # fmt: skip
