"""INT8 accuracy on real data: the shipped Fashion-MNIST CNN quantized by kiln.quantization with the
default method (minmax, per-channel weights), calibrated on 1,000 training images, keeps its top-1
on all 10,000 test images within 0.5 points of FP32 (docs/quantization.md has the full table)."""

import os
import pathlib
import sys

import numpy as np
import pytest

import kiln
from kiln.quantization import quantize_static

FASHION = pathlib.Path(os.environ["KILN_SOURCE_DIR"]) / "models" / "fashion_mnist"
sys.path.insert(0, str(FASHION))
import fashion_data  # noqa: E402

pytestmark = pytest.mark.skipif(not fashion_data.DEFAULT_DIR.is_dir(),
                                reason="Debian's dataset-fashion-mnist is not installed (scripts/setup.sh)")


def top1(path, images, labels):
    session = kiln.InferenceSession(str(path))
    predictions = np.concatenate([session.run(None, {"image": images[i:i + 1000]})[0].argmax(1)
                                  for i in range(0, len(images), 1000)])
    return 100.0 * np.mean(predictions == labels)


def test_cnn_int8_within_half_a_point_of_fp32(tmp_path):
    train_images, _ = fashion_data.load("train")
    test_images, test_labels = fashion_data.load("test")
    calibration = [{"image": train_images[i:i + 1]} for i in range(1000)]
    quantized = tmp_path / "cnn.int8.onnx"
    quantize_static(str(FASHION / "cnn.onnx"), str(quantized), calibration)
    fp32 = top1(FASHION / "cnn.onnx", test_images, test_labels)
    int8 = top1(quantized, test_images, test_labels)
    assert fp32 > 92.0
    assert abs(fp32 - int8) <= 0.5, f"FP32 {fp32:.2f}%, INT8 {int8:.2f}%"
