"""SFace (OpenCV Zoo, 2021dec, Apache-2.0): 128-D templates, run by :class:`ArcFaceONNX`.

Preprocessing is OpenCV's ``FaceRecognizerSF``: ``alignCrop`` warps the face onto the same
112x112 five-point ArcFace template as :func:`faceprint.align.align_crop`, and ``feature``
calls ``blobFromImage(crop, 1, (112, 112), (0, 0, 0), swapRB=True)``: raw 0-255 RGB. The
graph normalises inside itself ((x - 127.5) * 0.0078125 are its first two nodes), so
ArcFaceONNX runs it with ``mean=0, std=1, rgb=True``. With the same keypoints the templates
equal ``cv2.FaceRecognizerSF``'s to cosine 1.0000.

As shipped, the graph lists 29 stale weight inputs besides ``data`` and onnxruntime fails
at ``run()``. :func:`sface_graph` repairs it in memory: it drops them, makes the batch
dynamic and folds the int8 weights to float32 (onnxruntime otherwise re-runs every
DequantizeLinear at each call: 74 ms against 30 ms for one face).

Speed, median ms per face at 2 threads on this 2-core machine, shared with other work
(load 7-8), interleaved runs of the two embedders on LFW faces, two rounds:

=============  ==========  ==========  ==========
faces a call   1           4           16
=============  ==========  ==========  ==========
onnxruntime    32.7, 31.3  37.0, 34.0  30.7, 34.9
OpenCV dnn     36.2, 34.7  42.0, 32.6  33.1, 35.9
=============  ==========  ==========  ==========

onnxruntime is level or slightly ahead only thanks to ``make_session``'s PReLU rewrite;
without it onnxruntime took 61 ms a face against OpenCV's 33. It also shares nothing
between threads (a ``cv2.dnn.Net`` would need a lock) and honours ``threads``.
"""

from __future__ import annotations

from pathlib import Path

from ..models import onnx_edit
from .arcface import ArcFaceONNX

_INPUT = "data"


def sface_graph(path: Path) -> bytes:
    """The shipped graph with only its ``data`` input, a dynamic batch and float32 weights."""
    model = onnx_edit.load(path)
    onnx_edit.keep_inputs(model, {_INPUT})
    onnx_edit.set_dims(model.graph.input[0], {0: "N"})
    onnx_edit.set_dims(model.graph.output[0], {0: "N"})
    onnx_edit.dequantize_initializers(model)
    return onnx_edit.to_bytes(model)


def sface_embedder(path: Path, *, threads: int | None = None) -> ArcFaceONNX:
    return ArcFaceONNX(sface_graph(path), name="sface", mean=0.0, std=1.0, rgb=True, threads=threads)
