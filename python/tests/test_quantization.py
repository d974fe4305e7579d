"""kiln.quantization: onnxruntime.quantization's API over Kiln's quantizer, on the shipped digits model."""

import os

import numpy as np
import onnx
import pytest

import kiln
from kiln.quantization import (CalibrationDataReader, CalibrationMethod, QuantType, quantize_dynamic,
                               quantize_static)

DIGITS = os.path.join(os.environ["KILN_SOURCE_DIR"], "models", "digits")
MODEL = os.path.join(DIGITS, "digits_cnn.onnx")


@pytest.fixture(scope="module")
def images():
    return np.load(os.path.join(DIGITS, "heldout_images.npy"))


class Reader(CalibrationDataReader):
    def __init__(self, images):
        self.samples = iter([{"image": images[i:i + 1]} for i in range(32)])

    def get_next(self):
        return next(self.samples, None)


def predictions(path, images):
    return kiln.InferenceSession(path).run(None, {"image": images})[0]


@pytest.mark.parametrize("method", list(CalibrationMethod))
def test_static_from_a_reader_agrees_with_float(tmp_path, images, method):
    out = str(tmp_path / "digits.int8.onnx")
    quantize_static(MODEL, out, Reader(images), calibrate_method=method)
    model = onnx.load(out)
    onnx.checker.check_model(model)
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert "Relu" not in ops
    expected, actual = predictions(MODEL, images), predictions(out, images)
    assert (expected.argmax(1) == actual.argmax(1)).mean() >= 0.99
    cosine = (expected * actual).sum() / np.sqrt((expected ** 2).sum() * (actual ** 2).sum())
    assert cosine > 0.999


def test_static_from_a_folder_with_int8_activations(tmp_path, images):
    folder = tmp_path / "calib"
    folder.mkdir()
    for i in range(8):
        np.save(folder / f"image_{i:03d}.npy", images[i:i + 1])
    out = str(tmp_path / "digits.s8.onnx")
    quantize_static(MODEL, out, str(folder), activation_type=QuantType.QInt8)
    zero_points = [t for t in onnx.load(out).graph.initializer if t.name.endswith("_zero_point")]
    assert any(t.data_type == onnx.TensorProto.INT8 for t in zero_points)
    assert (predictions(MODEL, images).argmax(1) == predictions(out, images).argmax(1)).mean() >= 0.97


def test_dynamic_writes_integer_ops(tmp_path, images):
    out = str(tmp_path / "digits.dynamic.onnx")
    quantize_dynamic(MODEL, out)
    ops = [n.op_type for n in onnx.load(out).graph.node]
    assert ops.count("DynamicQuantizeLinear") == 4
    assert ops.count("ConvInteger") == 2 and ops.count("MatMulInteger") == 2
    assert (predictions(MODEL, images).argmax(1) == predictions(out, images).argmax(1)).mean() >= 0.99


def test_errors_name_the_problem(tmp_path, images):
    with pytest.raises(kiln.InvalidArgument, match="holds no samples"):
        quantize_static(MODEL, str(tmp_path / "x.onnx"), str(tmp_path))
    with pytest.raises(NotImplementedError, match="QInt8"):
        quantize_static(MODEL, str(tmp_path / "x.onnx"), Reader(images), weight_type=QuantType.QUInt8)
