"""The PReLU rewrite in make_session is exact, leaves what it cannot prove alone, and caches safely."""

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


@pytest.mark.parametrize("name,shape", [("w600k_mbf.onnx", (3, 3, 112, 112)), ("2d106det.onnx", (2, 3, 192, 192))])
def test_shipped_models_are_bit_identical(vectron, cache, name, shape):
    x = (np.random.default_rng(0).random(shape, dtype=np.float32) - 0.5) * 4
    want = _outputs(vectron / name, x, rewrite_prelu=False)
    assert b"PRelu" not in fo.prelu_as_depthwise(str(vectron / name))  # every PRelu was rewritten
    for _ in range(2):  # the second time from the cache
        got = _outputs(vectron / name, x)
        assert all(np.array_equal(a, b) for a, b in zip(want, got, strict=True))
    assert len(list(cache.glob("*.onnx"))) == 1


def test_model_without_prelu_is_untouched_and_remembered(vectron, cache):
    assert fo.prelu_as_depthwise(str(vectron / "scrfd_500m_bnkps.onnx")) is None
    fo.make_session(vectron / "scrfd_500m_bnkps.onnx", 1)
    assert len(list(cache.glob("*.same"))) == 1 and not list(cache.glob("*.onnx"))


def test_damaged_cache_entry_is_rebuilt(vectron, cache):
    x = np.random.default_rng(1).random((1, 3, 112, 112), dtype=np.float32)
    want = _outputs(vectron / "w600k_mbf.onnx", x)
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
    out = fo.prelu_as_depthwise(model)
    assert (out is not None) == rewritten
    if out is not None:
        assert not any(n.op_type == "PRelu" for n in onnx.load_from_string(out).graph.node)
    x = np.random.default_rng(3).normal(size=(1, 4, 5, 5)).astype(np.float32)
    assert np.array_equal(_outputs(model, x)[0], _outputs(model, x, rewrite_prelu=False)[0])
