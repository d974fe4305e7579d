"""Inputs are read in place and outputs are arrays over Kiln's buffers: an Identity model returns
the very memory it was given. Lifetimes hold both ways, and writes cannot reach what they must not."""

import gc
import sys

import numpy as np
import pytest
from onnx import TensorProto

import kiln
import onnx_models


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    return kiln.InferenceSession(onnx_models.save(onnx_models.identity(), tmp_path_factory.mktemp("m") / "id.onnx"))


def test_an_identity_output_is_the_input_memory(identity):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    (y,) = identity.run(None, {"x": x})
    assert np.shares_memory(x, y)
    assert y.__array_interface__["data"][0] == x.__array_interface__["data"][0]
    x[0, 0] = 42.0
    assert y[0, 0] == 42.0


def test_the_output_keeps_the_input_buffer_alive(identity):
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    (y,) = identity.run(None, {"x": x})
    del x
    gc.collect()
    np.testing.assert_array_equal(y, np.arange(30, dtype=np.float32).reshape(10, 3))


def test_a_run_leaves_no_reference_to_the_input_behind(identity):
    x = np.ones((5, 3), np.float32)
    before = sys.getrefcount(x)
    for _ in range(10):
        identity.run(None, {"x": x})
    assert sys.getrefcount(x) == before
    (y,) = identity.run(None, {"x": x})
    assert sys.getrefcount(x) == before + 1  # y's base holds it
    del y
    assert sys.getrefcount(x) == before


def test_outputs_outlive_their_session(tmp_path):
    session = kiln.InferenceSession(onnx_models.save(onnx_models.constant_output(), tmp_path / "c.onnx"))
    y, c = session.run(None, {"x": np.zeros(4, np.float32)})
    del session
    gc.collect()
    np.testing.assert_array_equal(y, np.ones(4, np.float32))
    np.testing.assert_array_equal(c, np.arange(4, dtype=np.float32))


@pytest.mark.parametrize("level", [kiln.GraphOptimizationLevel.ORT_DISABLE_ALL, kiln.GraphOptimizationLevel.ORT_ENABLE_ALL])
def test_writing_into_a_constant_output_leaves_the_session_as_it_was(tmp_path, level):
    options = kiln.SessionOptions()
    options.graph_optimization_level = level
    session = kiln.InferenceSession(onnx_models.save(onnx_models.constant_output(), tmp_path / "c.onnx"), options)
    y, c = session.run(None, {"x": np.zeros(4, np.float32)})
    y[0], c[0] = 5.0, 99.0
    y_again, c_again = session.run(None, {"x": np.zeros(4, np.float32)})
    np.testing.assert_array_equal(y_again, np.ones(4, np.float32))
    np.testing.assert_array_equal(c_again, np.arange(4, dtype=np.float32))
    assert not np.shares_memory(c, c_again)


def test_a_read_only_input_is_read_in_place_and_its_alias_stays_read_only(identity):
    x = np.frombuffer(np.arange(6, dtype=np.float32).tobytes(), dtype=np.float32).reshape(2, 3)
    assert not x.flags.writeable
    (y,) = identity.run(None, {"x": x})
    assert np.shares_memory(x, y) and not y.flags.writeable


def test_a_non_contiguous_array_is_copied_once_and_computes_the_same(identity):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    x = base[:, ::2]
    assert not x.flags.c_contiguous
    (y,) = identity.run(None, {"x": x})
    assert not np.shares_memory(base, y)
    np.testing.assert_array_equal(y, x)


def test_a_big_endian_array_is_converted_to_native_order(identity):
    x = np.arange(6, dtype=">f4").reshape(2, 3)
    (y,) = identity.run(None, {"x": x})
    assert y.dtype == np.float32 and y.dtype.isnative
    np.testing.assert_array_equal(y, x.astype(np.float32))


@pytest.mark.parametrize("elem_type, dtype", [
    (TensorProto.FLOAT16, np.float16), (TensorProto.DOUBLE, np.float64), (TensorProto.INT8, np.int8),
    (TensorProto.UINT8, np.uint8), (TensorProto.INT32, np.int32), (TensorProto.INT64, np.int64),
    (TensorProto.BOOL, np.bool_), (TensorProto.UINT16, np.uint16),
])
def test_every_numpy_dtype_passes_through_without_a_copy(tmp_path, elem_type, dtype):
    session = kiln.InferenceSession(onnx_models.save(onnx_models.identity(elem_type), tmp_path / "id.onnx"))
    x = (np.arange(9) % 3).astype(dtype).reshape(3, 3)
    (y,) = session.run(None, {"x": x})
    assert y.dtype == dtype and np.shares_memory(x, y)
    np.testing.assert_array_equal(y, x)


def test_computed_outputs_are_writeable_arrays_over_kilns_buffer(tmp_path):
    session = kiln.InferenceSession(onnx_models.save(onnx_models.add_and_mul(), tmp_path / "am.onnx"))
    a = np.ones((2, 3), np.float32)
    total, prod = session.run(None, {"a": a, "b": a})
    assert total.flags.writeable and total.flags.c_contiguous and not total.flags.owndata
    assert total.base is not None and not np.shares_memory(total, a)
    total += 1
    np.testing.assert_array_equal(session.run(["sum"], {"a": a, "b": a})[0], np.full((2, 3), 2, np.float32))
