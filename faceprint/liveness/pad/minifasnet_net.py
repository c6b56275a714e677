"""MiniFASNetV2 and MiniFASNetV1SE, written as ONNX graphs from their published weights.

Both networks (MiniVision's Silent-Face-Anti-Spoofing, Apache-2.0) share one layout; V1SE adds a
squeeze-and-excitation gate to the last block of each residual stage. Layer by layer, with
the weight names of the published state dicts::

    conv1        3x3 conv, stride 2 -> BN -> PReLU
    conv2_dw     3x3 depthwise conv -> BN -> PReLU
    conv_23      bottleneck, stride 2  (1x1 expand, 3x3 depthwise, 1x1 project; each conv + BN)
    conv_3       4 residual bottlenecks (SE on the last in V1SE)
    conv_34      bottleneck, stride 2
    conv_4       6 residual bottlenecks (SE on the last in V1SE)
    conv_45      bottleneck, stride 2
    conv_5       2 residual bottlenecks (SE on the last in V1SE)
    conv_6_sep   1x1 conv -> BN -> PReLU
    conv_6_dw    5x5 depthwise conv over the whole 5x5 map -> BN
    linear       512 -> 128, BatchNorm1d, prob: 128 -> 3 logits, softmax (class 1: live)

Channel counts and groups are read from the weight shapes, so the pruned widths of the two
variants need no table. Input: (N, 3, 80, 80) float BGR in 0..255 (no scaling, as trained).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .torchfile import TorchFileError

INPUT, OUTPUT = "crop", "probs"
BN_EPS = 1e-5
# (stage, bottlenecks, stride): stride-2 single bottlenecks and residual stages, in order.
STAGES: tuple[tuple[str, int, int], ...] = (
    ("conv_23", 0, 2), ("conv_3", 4, 1), ("conv_34", 0, 2), ("conv_4", 6, 1),
    ("conv_45", 0, 2), ("conv_5", 2, 1),
)  # fmt: skip


@dataclass
class _Builder:
    weights: dict[str, np.ndarray]
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    n: int = 0

    def w(self, name: str) -> np.ndarray:
        if name not in self.weights:
            raise TorchFileError(f"the weights have no tensor {name!r}: not a MiniFASNet file")
        self.used.add(name)
        return self.weights[name].astype(np.float32)

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name))
        return name

    def op(self, kind: str, inputs: list[str], **attrs: Any) -> str:
        self.n += 1
        out = f"{kind.lower()}_{self.n}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def conv(self, x: str, prefix: str, c_in: int, stride: int = 1, pad: bool = True) -> tuple[str, int]:
        w = self.w(f"{prefix}.weight")
        k = w.shape[2]
        p = k // 2 if pad else 0
        y = self.op("Conv", [x, self.const(f"{prefix}.weight", w)], kernel_shape=[k, k], strides=[stride, stride],
                    pads=[p, p, p, p], group=c_in // w.shape[1])  # fmt: skip
        return y, int(w.shape[0])

    def bn(self, x: str, prefix: str) -> str:
        args = [self.const(f"{prefix}.{s}", self.w(f"{prefix}.{s}")) for s in ("weight", "bias", "running_mean", "running_var")]
        self.used.add(f"{prefix}.num_batches_tracked")
        return self.op("BatchNormalization", [x, *args], epsilon=BN_EPS)

    def block(self, x: str, prefix: str, c_in: int, stride: int = 1, *, prelu: bool = True, pad: bool = True) -> tuple[str, int]:
        """Conv_block (conv, BN, PReLU) or, with ``prelu=False``, Linear_block (conv, BN)."""
        y, c = self.conv(x, f"{prefix}.conv", c_in, stride, pad)
        y = self.bn(y, f"{prefix}.bn")
        if prelu:
            slope = self.w(f"{prefix}.prelu.weight").reshape(-1, 1, 1)
            y = self.op("PRelu", [y, self.const(f"{prefix}.prelu.weight", slope)])
        return y, c

    def se(self, x: str, prefix: str, c: int) -> str:
        g = self.op("GlobalAveragePool", [x])
        g, r = self.conv(g, f"{prefix}.fc1", c, pad=False)
        g = self.op("Relu", [self.bn(g, f"{prefix}.bn1")])
        g, _ = self.conv(g, f"{prefix}.fc2", r, pad=False)
        g = self.op("Sigmoid", [self.bn(g, f"{prefix}.bn2")])
        return self.op("Mul", [x, g])

    def bottleneck(self, x: str, prefix: str, c_in: int, stride: int, residual: bool) -> tuple[str, int]:
        y, c = self.block(x, f"{prefix}.conv", c_in)
        y, c = self.block(y, f"{prefix}.conv_dw", c, stride)
        y, c = self.block(y, f"{prefix}.project", c, prelu=False)
        if f"{prefix}.se_module.fc1.weight" in self.weights:
            y = self.se(y, f"{prefix}.se_module", c)
        return (self.op("Add", [x, y]) if residual else y), c


def build_graph(weights: dict[str, np.ndarray], name: str) -> onnx.ModelProto:
    """The network of one published state dict as an ONNX model: ``crop`` (N,3,80,80) -> ``probs`` (N,3)."""
    b = _Builder(weights)
    x, c = b.block(INPUT, "conv1", 3, 2)
    x, c = b.block(x, "conv2_dw", c)
    for stage, count, stride in STAGES:
        if count == 0:
            x, c = b.bottleneck(x, stage, c, stride, residual=False)
        for i in range(count):
            x, c = b.bottleneck(x, f"{stage}.model.{i}", c, stride, residual=True)
    x, c = b.block(x, "conv_6_sep", c)
    x, c = b.block(x, "conv_6_dw", c, prelu=False, pad=False)
    x = b.op("Flatten", [x], axis=1)
    x = b.op("MatMul", [x, b.const("linear.weight", b.w("linear.weight").T)])
    x = b.op("Unsqueeze", [x, _axes(b)])
    x = b.op("Squeeze", [b.bn(x, "bn"), "axes_2"])
    x = b.op("MatMul", [x, b.const("prob.weight", b.w("prob.weight").T)])
    b.nodes.append(helper.make_node("Softmax", [x], [OUTPUT], axis=1))
    unused = sorted(set(weights) - b.used)
    if unused:
        raise TorchFileError(f"the weights hold tensors this network does not use: {', '.join(unused[:5])}")
    graph = helper.make_graph(
        b.nodes, name, [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 3, 80, 80])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 3])], b.inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="faceprint")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def _axes(b: _Builder) -> str:
    """[2]: BatchNorm1d is BatchNormalization over (N, C, 1)."""
    b.inits.append(numpy_helper.from_array(np.array([2], np.int64), "axes_2"))
    return "axes_2"
