"""make_session's graph rewrites: PReLU bit-identical, grouped convolutions equal up to rounding;
what they cannot prove is left alone, and the rewritten graph is cached safely."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from faceprint.models import onnx as fo


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEPRINT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


def _outputs(src, x, **kw):
    s = fo.make_session(src, 1, **kw)
    return s.run(None, {s.get_inputs()[0].name: x})


def _ops(model: bytes) -> list[tuple[str, int]]:
    """Each node's op type and group."""
    return [(n.op_type, next((a.i for a in n.attribute if a.name == "group"), 1)) for n in onnx.load_from_string(model).graph.node]


def _grouped_convs(model: onnx.ModelProto) -> int:
    """Convolutions neither dense nor depthwise: a group count above 1 and several input channels per group."""
    inits = {t.name: t for t in model.graph.initializer}
    return sum(1 for n in model.graph.node if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute) and inits[n.input[1]].dims[1] > 1)


def test_the_landmarker_is_bit_identical(vectron, cache):
    x = (np.random.default_rng(0).random((2, 3, 192, 192), dtype=np.float32) - 0.5) * 4
    want = _outputs(vectron / "2d106det.onnx", x, rewrite=False)
    assert "PRelu" not in {op for op, _ in _ops(fo.cpu_graph(str(vectron / "2d106det.onnx")))}  # every PRelu was rewritten
    for _ in range(2):  # the second time from the cache
        got = _outputs(vectron / "2d106det.onnx", x)
        assert all(np.array_equal(a, b) for a, b in zip(want, got, strict=True))
    assert len(list(cache.glob("*.onnx"))) == 1


def test_the_recogniser_is_bit_identical_after_the_prelu_rewrite_and_equal_after_both(vectron, cache):
    x = (np.random.default_rng(0).random((3, 3, 112, 112), dtype=np.float32) - 0.5) * 4
    src = vectron / "w600k_mbf.onnx"
    (want,) = _outputs(src, x, rewrite=False)
    model = onnx.load(str(src))
    assert fo.prelu_as_depthwise(model) == 34
    (prelu_only,) = _outputs(model.SerializeToString(), x, rewrite=False)
    assert np.array_equal(prelu_only, want)
    assert fo.grouped_as_depthwise(model) == 1  # its one 64-group layer
    assert "PRelu" not in {op for op, _ in _ops(model.SerializeToString())} and _grouped_convs(model) == 0
    (got,) = _outputs(src, x)  # make_session's graph: both rewrites
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    cos = np.sum(got * want, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() >= 0.9999999


def test_model_without_anything_to_rewrite_is_untouched_and_remembered(vectron, cache):
    assert fo.cpu_graph(str(vectron / "scrfd_500m_bnkps.onnx")) is None
    fo.make_session(vectron / "scrfd_500m_bnkps.onnx", 1)
    assert len(list(cache.glob("*.same"))) == 1 and not list(cache.glob("*.onnx"))


def test_damaged_cache_entry_is_rebuilt(vectron, cache):
    x = np.random.default_rng(1).random((1, 3, 112, 112), dtype=np.float32)
    want = _outputs(vectron / "w600k_mbf.onnx", x)  # writes the entry
    (entry,) = cache.glob("*.onnx")
    entry.write_bytes(entry.read_bytes()[:1000])
    assert np.array_equal(_outputs(vectron / "w600k_mbf.onnx", x)[0], want[0])


def test_cache_can_be_turned_off(vectron, tmp_path, monkeypatch):
    monkeypatch.setenv("FACEPRINT_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert fo.cache_dir() is None
    fo.make_session(vectron / "w600k_mbf.onnx", 1)
    assert not list(tmp_path.rglob("*.onnx"))


def _tiny(slope: np.ndarray) -> bytes:
    """input (1, 4, 5, 5) -> 3x3 Conv -> PRelu(slope) -> output."""
    w = numpy_helper.from_array(np.random.default_rng(2).normal(size=(4, 4, 3, 3)).astype(np.float32), "w")
    s = numpy_helper.from_array(slope.astype(np.float32), "s")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("PRelu", ["c", "s"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])],
        [w, s],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


@pytest.mark.parametrize(
    "slope,rewritten",
    [
        (np.array([0.25, -0.5, 1.5, 0.0]).reshape(4, 1, 1), True),  # per channel, any sign
        (np.array([0.25, -0.5, 1.5, 0.0]).reshape(1, 4, 1, 1), True),
        (np.array([0.1]), True),  # one slope for all
        (np.array([0.1, 0.2, 0.3, 0.4, 0.5]), False),  # (W,): broadcasts along width, not channels
    ],
)
def test_slope_shapes(cache, slope, rewritten):
    model = _tiny(slope)
    out = fo.cpu_graph(model)
    assert (out is not None) == rewritten
    if out is not None:
        assert "PRelu" not in {op for op, _ in _ops(out)}
    x = np.random.default_rng(3).normal(size=(1, 4, 5, 5)).astype(np.float32)
    assert np.array_equal(_outputs(model, x)[0], _outputs(model, x, rewrite=False)[0])


def _grouped(cin: int, cout: int, groups: int, bias: bool, **attrs) -> bytes:
    """input (2, cin, 9, 9) -> grouped 3x3 Conv -> output."""
    rng = np.random.default_rng(cin * cout + groups)
    inits = [numpy_helper.from_array(rng.normal(size=(cout, cin // groups, 3, 3)).astype(np.float32), "w")]
    if bias:
        inits.append(numpy_helper.from_array(rng.normal(size=cout).astype(np.float32), "b"))
    node = helper.make_node("Conv", ["x", "w", *(["b"] if bias else [])], ["y"], group=groups, kernel_shape=[3, 3], **attrs)
    graph = helper.make_graph(
        [node], "grouped", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, cin, 9, 9])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


@pytest.mark.parametrize(
    "cin,cout,groups,bias,attrs,rewritten",
    [
        (8, 8, 4, True, {"pads": [1, 1, 1, 1]}, True),  # 2 in, 2 out per group: w600k_mbf's kind
        (6, 12, 2, False, {"strides": [2, 2]}, True),  # 3 in, 6 out per group, no bias, strided
        (8, 8, 8, True, {"pads": [1, 1, 1, 1]}, False),  # depthwise already
        (4, 8, 4, True, {}, False),  # one input channel per group: left alone
        (8, 8, 1, True, {}, False),  # dense
    ],
)
def test_grouped_convolutions(cache, cin, cout, groups, bias, attrs, rewritten):
    model = _grouped(cin, cout, groups, bias, **attrs)
    out = fo.cpu_graph(model)
    assert (out is not None) == rewritten
    if out is not None:
        assert _grouped_convs(onnx.load_from_string(out)) == 0  # depthwise terms only
    x = np.random.default_rng(4).normal(size=(2, cin, 9, 9)).astype(np.float32)
    got, want = _outputs(model, x)[0], _outputs(model, x, rewrite=False)[0]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
