"""YuNet (OpenCV Zoo, 2023mar, MIT) on onnxruntime: boxes, scores and five keypoints.

The shipped int8 graph is repaired in memory (see :func:`yunet_graph`): its weights are
dequantised once, and its input and output shapes are made dynamic so that any multiple of
32 and any batch size run. Decoding follows OpenCV's ``FaceDetectorYN::postProcess``:
score = sqrt(cls * obj), centre = (cell + d) * stride, size = exp(d) * stride.

YuNet's five points already come in our order, image-left first (OpenCV documents them as
"right eye, left eye, ..." in the subject's sense, which is the same thing).

Speed, median ms per image at 2 threads on this 2-core machine, shared with other work,
interleaved runs against OpenCV's ``cv2.FaceDetectorYN`` on the same input size:

- 640x480 photo: 8.4 against 11.1 (load 5); 27-33 against 33-34 (load 8.5);
- 320x320: 3.1 against 3.8; 250x250 LFW image at scale 1: 2.7 against 3.5;
- the int8 graph as shipped, on onnxruntime: about 2.5x slower than with folded weights.

At scale 1 the boxes, points and scores equal ``FaceDetectorYN``'s (to 0.05 px).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from onnx import numpy_helper

from ..models import onnx_edit
from ..models.onnx import make_session
from ..types import Face
from .base import Detector, ceil32, to_faces

_STRIDES = (8, 16, 32)
_OUTPUTS = [f"{kind}_{s}" for kind in ("cls", "obj", "bbox", "kps") for s in _STRIDES]


def yunet_graph(path: Path) -> bytes:
    """The shipped graph with folded weights, a dynamic (N, 3, H, W) input and (N, A, C) outputs."""
    model = onnx_edit.load(path)
    onnx_edit.dequantize_initializers(model)
    onnx_edit.set_dims(model.graph.input[0], {0: "N", 2: "H", 3: "W"})
    for out in model.graph.output:
        onnx_edit.set_dims(out, {0: "N", 1: "A"})
    inits = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:  # the heads reshape to [1, -1, C]: copy the batch instead
        if node.op_type == "Reshape" and node.input[1] in inits:
            target = numpy_helper.to_array(inits[node.input[1]])
            if target.tolist() in ([1, -1, 1], [1, -1, 4], [1, -1, 10]):
                fixed = target.copy()
                fixed[0] = 0
                inits[node.input[1]].CopyFrom(numpy_helper.from_array(fixed, node.input[1]))
    return onnx_edit.to_bytes(model)


class YuNet(Detector):
    name = "yunet"

    def __init__(
        self,
        path: Path,
        *,
        det_size: int = 640,
        threshold: float = 0.5,
        nms_iou: float = 0.3,
        threads: int | None = None,
        max_batch: int = 8,
    ) -> None:
        self.session = make_session(yunet_graph(path), threads)
        self.input_name = self.session.get_inputs()[0].name
        self.det_size = det_size
        self.threshold = threshold
        self.nms_iou = nms_iou
        self.max_batch = max_batch

    def _scale(self, img: np.ndarray) -> float:
        h, w = img.shape[:2]
        return float(min(self.det_size / w, self.det_size / h))

    def input_size(self, img: np.ndarray) -> tuple[int, int]:
        """(w, h) of the network input: the image scaled to fit ``det_size``, padded to a multiple of 32."""
        h, w = img.shape[:2]
        scale = self._scale(img)
        return (ceil32(w * scale), ceil32(h * scale))

    def _prepare(self, img: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
        """Resize to fit ``det_size`` keeping aspect, pad bottom/right to ``size``; raw BGR NCHW float blob.

        Padding rather than stretching to the multiple of 32 is what ``cv2.FaceDetectorYN`` does,
        so at scale 1 both give the same boxes and points.
        """
        h, w = img.shape[:2]
        scale = self._scale(img)
        nw, nh = min(size[0], max(1, round(w * scale))), min(size[1], max(1, round(h * scale)))
        resized = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nw, nh) != (w, h) else img
        canvas = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        canvas[:nh, :nw] = resized
        return canvas.transpose(2, 0, 1)[None].astype(np.float32), scale

    def detect(self, img: np.ndarray) -> list[Face]:
        return self.detect_batch([img])[0]

    def detect_batch(self, imgs: Sequence[np.ndarray]) -> list[list[Face]]:
        """One onnxruntime call per ``max_batch`` images sharing an input size (e.g. LFW crops)."""
        results: list[list[Face]] = [[] for _ in imgs]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(imgs):
            groups.setdefault(self.input_size(img), []).append(i)
        chunks = [(size, idx[k : k + self.max_batch]) for size, idx in groups.items() for k in range(0, len(idx), self.max_batch)]
        for size, idx in chunks:
            prepared = [self._prepare(imgs[i], size) for i in idx]
            blob = np.concatenate([p[0] for p in prepared])
            outs = self.session.run(_OUTPUTS, {self.input_name: blob})
            for j, i in enumerate(idx):
                results[i] = self._decode([o[j] for o in outs], size, prepared[j][1])
        return results

    def _decode(self, outs: list[np.ndarray], size: tuple[int, int], scale: float) -> list[Face]:
        n = len(_STRIDES)
        boxes, scores, kpss = [], [], []
        for k, stride in enumerate(_STRIDES):
            cls = np.clip(outs[k][:, 0], 0.0, 1.0)
            obj = np.clip(outs[n + k][:, 0], 0.0, 1.0)
            s = np.sqrt(cls * obj)
            keep = np.where(s >= self.threshold)[0]
            if keep.size == 0:
                continue
            cols = size[0] // stride
            cell = np.stack([keep % cols, keep // cols], axis=1).astype(np.float32)
            d = outs[2 * n + k][keep]
            centre = (cell + d[:, :2]) * stride
            half = np.exp(d[:, 2:4]) * stride / 2.0
            boxes.append(np.concatenate([centre - half, centre + half], axis=1))
            kpss.append((outs[3 * n + k][keep].reshape(-1, 5, 2) + cell[:, None, :]) * stride)
            scores.append(s[keep])
        return to_faces(boxes, scores, kpss, scale, self.nms_iou)
