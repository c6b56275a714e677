"""onnxruntime sessions tuned for small CPUs.

``make_session`` also rewrites two kinds of node that onnxruntime's blocked NCHWc convolution
kernels do not take into ones they do (:func:`cpu_graph`):

- per-channel PReLU (:func:`prelu_as_depthwise`): bit-identical outputs, and the ArcFace
  MobileFaceNet runs 35-40% faster on one core (measured: 18.0 -> 11.2 ms a face);
- grouped convolutions that are not depthwise (:func:`grouped_as_depthwise`): the same sums in
  another order (w600k_mbf's templates agree to cosine 0.9999999), 6-8% less time a face (its one
  such layer took 10% of the network's time).

The rewritten graph is kept in ``$FACEPRINT_CACHE`` (default ``$XDG_CACHE_HOME/faceprint``, else
``~/.cache/faceprint``; ``off`` disables it), keyed by the source file's path, size and mtime,
so later processes load it directly: no ``onnx`` import, no extra copy of the weights in
memory (+34 MiB peak RSS for ``faceprint compare`` without the cache) and no parsing time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

if TYPE_CHECKING:
    import onnx

_REWRITE_VERSION = 2  # bump when cpu_graph changes its output


def default_threads() -> int:
    return int(os.environ.get("FACEPRINT_THREADS", "0")) or min(os.cpu_count() or 1, 4)


def make_session(model: Path | bytes, threads: int | None = None, *, rewrite: bool = True) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Busy-wait spinning doubles latency when several sessions share two cores (measured).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    src: str | bytes = model if isinstance(model, bytes) else str(model)
    if rewrite:
        graph = _rewritten(src)
        if isinstance(graph, str) and graph != src:  # from the cache
            try:
                return ort.InferenceSession(graph, sess_options=opts, providers=["CPUExecutionProvider"])
            except Exception:  # noqa: BLE001 - a damaged entry (ORT's errors share no narrower base): drop it and rewrite afresh, uncached
                Path(graph).unlink(missing_ok=True)
                graph = cpu_graph(src) or src
        src = graph
    return ort.InferenceSession(src, sess_options=opts, providers=["CPUExecutionProvider"])


def cache_dir() -> Path | None:
    """Where derived graphs are kept, or None when caching is off (``FACEPRINT_CACHE=off``)."""
    env = os.environ.get("FACEPRINT_CACHE")
    if env is not None and env.strip().lower() in ("", "0", "off", "none"):
        return None
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "faceprint"
    return base / "onnx"


def _rewritten(src: str | bytes) -> str | bytes:
    """``src`` after :func:`cpu_graph`: a cached file's path when there is one."""
    d = cache_dir()
    key = None
    if d is not None:
        try:
            key = _cache_key(src)
            if (d / f"{key}.onnx").is_file():
                return str(d / f"{key}.onnx")
            if (d / f"{key}.same").is_file():
                return src  # known to hold nothing to rewrite
        except OSError:
            key = None
    out = cpu_graph(src)
    if d is not None and key is not None:
        try:
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(out or b"")
            os.replace(tmp, d / (f"{key}.onnx" if out is not None else f"{key}.same"))  # atomic
        except OSError:
            pass  # read-only home, full disk...: work uncached
    return out if out is not None else src


def _cache_key(src: str | bytes) -> str:
    h = hashlib.sha256(f"cpu-graph-v{_REWRITE_VERSION}|ort-{ort.__version__}|".encode())
    if isinstance(src, bytes):
        h.update(src)
    else:
        p = Path(src).resolve()
        st = p.stat()
        h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def cpu_graph(src: str | bytes) -> bytes | None:
    """The graph with :func:`prelu_as_depthwise` and :func:`grouped_as_depthwise` applied, or
    None when neither finds anything to rewrite."""
    data = src if isinstance(src, bytes) else Path(src).read_bytes()
    if b"PRelu" not in data and b"group" not in data:  # cheap: op types and attribute names are plain strings
        return None
    import onnx  # only here: a cached graph needs neither the module nor the parsing

    model = onnx.load_from_string(data)
    del data
    if not prelu_as_depthwise(model) + grouped_as_depthwise(model):
        return None
    out: bytes = model.SerializeToString()
    return out


def prelu_as_depthwise(model: onnx.ModelProto) -> int:
    """Rewrite, in place, each per-channel ``PRelu`` over an NCHW tensor; the number rewritten.

    ``PRelu(x, s)`` becomes ``Relu(x) + DW(Relu(DW(x, -1)), -s)``, where ``DW(t, w)`` is a 1x1
    depthwise convolution scaling channel c by ``w[c]``. Exactly one of the two terms is
    non-zero for every element and each is computed with one rounding, so the output is
    bit-identical to ``PRelu``. The point is speed: onnxruntime has no fused PReLU and runs it
    as a generic broadcast outside its blocked NCHWc layout, paying a reorder on either side
    of every activation. Written this way, the Relus and the scaling fuse into NCHWc
    convolutions and the activation costs a small fraction of what it did (35% of
    w600k_mbf's time on one core).
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    if not any(n.op_type == "PRelu" for n in graph.node):
        return 0
    inits = {t.name: t for t in graph.initializer}
    ranks, channels = _ranks_and_channels(model)
    nodes: list[onnx.NodeProto] = []
    changed = 0
    for node in graph.node:
        slope = _channel_slope(node, inits, ranks, channels)
        if slope is None:
            nodes.append(node)
            continue
        x, y = node.input[0], node.output[0]
        c = slope.size
        p = f"_fp_prelu{changed}_"
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.full((c, 1, 1, 1), -1.0, np.float32), p + "neg"),
                numpy_helper.from_array((-slope).reshape(c, 1, 1, 1), p + "slope"),
            ]
        )
        nodes += [
            helper.make_node("Relu", [x], [p + "pos"]),
            helper.make_node("Conv", [x, p + "neg"], [p + "negx"], group=c, kernel_shape=[1, 1]),
            helper.make_node("Relu", [p + "negx"], [p + "negpart"]),
            helper.make_node("Conv", [p + "negpart", p + "slope"], [p + "scaled"], group=c, kernel_shape=[1, 1]),
            helper.make_node("Add", [p + "scaled", p + "pos"], [y]),
        ]
        changed += 1
    if changed:
        del graph.node[:]
        graph.node.extend(nodes)
    return changed


def grouped_as_depthwise(model: onnx.ModelProto) -> int:
    """Rewrite, in place, each grouped 2-D ``Conv`` that is not depthwise; the number rewritten.

    With ``k`` input channels per group, output channel ``o`` of group ``j`` sums over input
    channels ``j*k .. j*k+k-1``. That is ``k`` depthwise convolutions added up, the t-th over
    ``Gather(x, [j(o)*k + t for each o])`` with the t-th input slice of the weights (the bias
    once). onnxruntime's NCHWc kernels take group == 1 or depthwise only, so such a layer ran in
    its slow generic path between two layout reorders: w600k_mbf's 128-channel, 64-group 3x3
    layer took 1.3 of its 12.9 ms. The sums are the same, in another order.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    nodes: list[onnx.NodeProto] = []
    changed = 0
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        w_init = inits.get(node.input[1]) if node.op_type == "Conv" and len(node.input) > 1 else None
        groups = int(attrs.get("group", 1))
        if w_init is None or len(w_init.dims) != 4 or groups == 1 or w_init.dims[1] == 1 or w_init.dims[0] % groups:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(w_init)
        cout, k = w.shape[:2]
        per_group = cout // groups
        attrs.pop("group")
        p = f"_fp_grouped{changed}_"
        terms = []
        for t in range(k):
            idx = np.array([(o // per_group) * k + t for o in range(cout)], np.int64)
            graph.initializer.extend([numpy_helper.from_array(idx, f"{p}idx{t}"), numpy_helper.from_array(np.ascontiguousarray(w[:, t : t + 1]), f"{p}w{t}")])
            bias = [node.input[2]] if t == 0 and len(node.input) > 2 and node.input[2] else []
            nodes += [
                helper.make_node("Gather", [node.input[0], f"{p}idx{t}"], [f"{p}x{t}"], axis=1),
                helper.make_node("Conv", [f"{p}x{t}", f"{p}w{t}", *bias], [f"{p}y{t}"], group=cout, **attrs),
            ]
            terms.append(f"{p}y{t}")
        total = terms[0]
        for t, term in enumerate(terms[1:], 1):
            out = node.output[0] if t == k - 1 else f"{p}sum{t}"
            nodes.append(helper.make_node("Add", [total, term], [out]))
            total = out
        changed += 1
    if changed:
        del graph.node[:]
        graph.node.extend(nodes)
    return changed


def _ranks_and_channels(model: onnx.ModelProto) -> tuple[dict[str, int], dict[str, int]]:
    """Rank and (when fixed) dimension 1 of every tensor shape inference can tell.

    Inference runs on a copy without the weights (initializers become typed inputs), so it
    does not duplicate them in memory.
    """
    import onnx
    from onnx import helper

    light = onnx.ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    g0 = model.graph
    light.graph.name = g0.name
    light.graph.node.extend(g0.node)
    known = {i.name for i in g0.input}
    light.graph.input.extend(g0.input)
    light.graph.input.extend(
        helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in g0.initializer if t.name not in known
    )
    light.graph.output.extend(g0.output)
    try:
        inferred = onnx.shape_inference.infer_shapes(light)
    except Exception:  # noqa: BLE001 - an unusual graph, whatever onnx raises for it: rewrite nothing rather than guess
        return {}, {}
    ranks: dict[str, int] = {}
    channels: dict[str, int] = {}
    g = inferred.graph
    for v in [*g.input, *g.value_info, *g.output]:
        t = v.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = t.shape.dim
        ranks[v.name] = len(dims)
        if len(dims) > 1 and dims[1].HasField("dim_value"):
            channels[v.name] = dims[1].dim_value
    return ranks, channels


def _channel_slope(
    node: onnx.NodeProto, inits: dict[str, onnx.TensorProto], ranks: dict[str, int], channels: dict[str, int]
) -> np.ndarray | None:
    """The per-channel float32 slope of a PRelu over a 4-D NCHW tensor, else None (left alone)."""
    from onnx import numpy_helper

    if node.op_type != "PRelu" or len(node.input) != 2 or node.input[1] not in inits:
        return None
    x = node.input[0]
    if ranks.get(x) != 4:
        return None
    slope = numpy_helper.to_array(inits[node.input[1]])
    if slope.dtype != np.float32:
        return None
    c = channels.get(x)
    if (slope.ndim == 3 and slope.shape[1:] == (1, 1)) or (slope.ndim == 4 and slope.shape[0] == 1 and slope.shape[2:] == (1, 1)):
        slope = slope.reshape(-1)
    elif slope.size == 1 and c:
        slope = np.full(c, slope.reshape(()), np.float32)
    else:
        return None  # e.g. a (C,) slope, which broadcasts along width, not channels
    if c is not None and c != slope.size:
        return None
    return np.ascontiguousarray(slope, dtype=np.float32)
