"""In-memory repairs of shipped ONNX graphs. The files on disk are never modified.

Each function edits a loaded ``onnx.ModelProto`` in place and returns what it changed, so a
pack can verify the sha256 of the file it ships, repair the graph, and hand the serialised
bytes to onnxruntime (``make_session`` accepts bytes) or to OpenCV (``cv2.dnn.readNetFromONNX``
accepts a byte buffer).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from ..errors import ModelError


def load(path: Path) -> onnx.ModelProto:
    try:
        return onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError, OSError, ...
        raise ModelError(f"cannot parse ONNX graph {path.name}: {exc}") from exc


def keep_inputs(model: onnx.ModelProto, names: set[str]) -> list[str]:
    """Drop every graph input not in ``names`` (stale weight inputs break onnxruntime at run())."""
    kept = [i for i in model.graph.input if i.name in names]
    dropped = [i.name for i in model.graph.input if i.name not in names]
    missing = names - {i.name for i in kept}
    if missing:
        raise ModelError(f"graph has no input named {sorted(missing)}")
    del model.graph.input[:]
    model.graph.input.extend(kept)
    return dropped


def set_dims(value: onnx.ValueInfoProto, dims: dict[int, str]) -> None:
    """Turn fixed dimensions into named symbolic ones, e.g. ``{0: "N"}`` for a dynamic batch."""
    shape = value.type.tensor_type.shape.dim
    for axis, name in dims.items():
        shape[axis].ClearField("dim_value")
        shape[axis].dim_param = name


def dequantize_initializers(model: onnx.ModelProto) -> int:
    """Replace every ``DequantizeLinear`` of constant int8 weights with its float32 result.

    The OpenCV Zoo "int8bq" graphs store block-quantised weights but run float activations,
    so nothing is lost: the folded weights are exactly what DequantizeLinear would compute.
    onnxruntime does not fold these nodes itself, re-running them at every call (measured
    2-3x slower for YuNet), and it rejects their ``block_size`` on one-element scales.
    """
    inits = {t.name: t for t in model.graph.initializer}
    kept, folded = [], []
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and all(x in inits for x in node.input if x):
            folded.append(numpy_helper.from_array(_dequantize(node, inits), node.output[0]))
        else:
            kept.append(node)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    used = {x for n in kept for x in n.input} | {o.name for o in model.graph.output}
    live = [t for t in [*model.graph.initializer, *folded] if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(live)
    return len(folded)


def _dequantize(node: onnx.NodeProto, inits: dict[str, onnx.TensorProto]) -> np.ndarray:
    q = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
    scale = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
    has_zero = len(node.input) > 2 and node.input[2]
    zero = numpy_helper.to_array(inits[node.input[2]]).astype(np.float32) if has_zero else np.zeros_like(scale)
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if scale.size == 1:
        return (q - zero.reshape(())) * scale.reshape(())
    axis = int(attrs.get("axis", 1)) % q.ndim
    block = int(attrs.get("block_size", 0))
    if block:  # blocked: scale has q's rank, with ceil(n / block) entries along axis
        cut = [slice(None)] * q.ndim
        cut[axis] = slice(0, q.shape[axis])
        scale = np.repeat(scale, block, axis=axis)[tuple(cut)]
        zero = np.repeat(zero, block, axis=axis)[tuple(cut)]
        return (q - zero) * scale
    shape = [1] * q.ndim
    shape[axis] = -1  # per-axis
    return (q - zero.reshape(shape)) * scale.reshape(shape)


def to_bytes(model: onnx.ModelProto) -> bytes:
    return bytes(model.SerializeToString())
