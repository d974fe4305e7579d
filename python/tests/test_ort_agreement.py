"""Models quantized by Kiln run in ONNX Runtime (onnxruntime-node, bench/'s peer) with Kiln's
results: the Fashion-MNIST CNN quantized static (top-1 agreement on 2,000 test images), and a
53-convolution U-Net quantized dynamically (DynamicQuantizeLinear -> ConvInteger -> Cast -> Mul,
bilinear Resize between stages), whose every float op before a quantizer must round as ONNX
Runtime's does: cosine similarity and the p > 0.5 masks. Skipped where node or
bench/node_modules/onnxruntime-node (scripts/setup_bench.sh) is missing."""

import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import kiln
from kiln.quantization import quantize_dynamic, quantize_static

ROOT = pathlib.Path(os.environ["KILN_SOURCE_DIR"])
FASHION = ROOT / "models" / "fashion_mnist"
sys.path.insert(0, str(FASHION))
import fashion_data  # noqa: E402

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "bench" / "node_modules" / "onnxruntime-node").is_dir(),
    reason="needs node and onnxruntime-node (scripts/setup_bench.sh)")


def node(*args):
    done = subprocess.run(["node", *map(str, args)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def export_bench_model(name, folder):
    """bench/export_models.py's `name` into `folder`; skips the test where PyTorch is missing."""
    export = subprocess.run([sys.executable, str(ROOT / "bench" / "export_models.py"), str(folder), name],
                            capture_output=True, text=True, timeout=600)
    if export.returncode == 77:
        pytest.skip(f"exporting {name} needs PyTorch and torchvision")
    assert export.returncode == 0, export.stdout + export.stderr
    return folder / f"{name}.onnx"


@pytest.mark.skipif(not fashion_data.DEFAULT_DIR.is_dir(), reason="needs Debian's dataset-fashion-mnist")
def test_fashion_cnn_quantized_by_kiln_agrees_with_onnxruntime(tmp_path):
    train_images, _ = fashion_data.load("train")
    test_images, _ = fashion_data.load("test")
    images = np.ascontiguousarray(test_images[:2000])
    model = tmp_path / "cnn.int8.onnx"
    quantize_static(str(FASHION / "cnn.onnx"), str(model), [{"image": train_images[i:i + 1]} for i in range(200)])
    np.save(tmp_path / "image.npy", images)
    node(FASHION / "ort_predict.mjs", model, tmp_path / "image.npy", tmp_path / "ort.npy")
    ort = np.load(tmp_path / "ort.npy")
    ours = kiln.InferenceSession(str(model)).run(None, {"image": images})[0].argmax(1)
    assert np.mean(ours == ort) >= 0.99


@pytest.mark.parametrize("shape, sizes, mode", [
    ((1, 3, 7, 7), (1, 3, 15, 15), "half_pixel"), ((1, 3, 13, 9), (1, 3, 29, 20), "half_pixel"),
    ((1, 3, 15, 15), (1, 3, 30, 30), "pytorch_half_pixel"), ((1, 3, 10, 10), (1, 3, 17, 23), "asymmetric")])
def test_bilinear_resize_rounds_as_onnxruntime(tmp_path, shape, sizes, mode):
    # Every value bit for bit: before Kiln computed bilinear weights ONNX Runtime's way, 47-91% of
    # these outputs differed from its by an ulp or so.
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear", coordinate_transformation_mode=mode)],
        "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[helper.make_tensor("sizes", TensorProto.INT64, [4], list(sizes))])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "resize.onnx"))
    x = np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    node(ROOT / "bench" / "ort_run.mjs", tmp_path / "resize.onnx", tmp_path / "ort", f"x={tmp_path / 'x.npy'}")
    ours = kiln.InferenceSession(str(tmp_path / "resize.onnx")).run(None, {"x": x})[0]
    np.testing.assert_array_equal(ours, np.load(tmp_path / "ort" / "y.npy"))


def test_dynamic_unet_matches_onnxruntime(tmp_path):
    model = tmp_path / "unet.int8.onnx"
    quantize_dynamic(str(export_bench_model("unet", tmp_path)), str(model))
    ops = [n.op_type for n in __import__("onnx").load(str(model)).graph.node]
    assert ops.count("ConvInteger") == 53 and ops.count("Resize") == 4
    image = np.random.default_rng(0).standard_normal((1, 3, 120, 120), dtype=np.float32)
    np.save(tmp_path / "input.npy", image)
    node(ROOT / "bench" / "ort_run.mjs", model, tmp_path / "ort", f"input={tmp_path / 'input.npy'}")
    ort = np.load(tmp_path / "ort" / "output.npy")
    ours = kiln.InferenceSession(str(model)).run(None, {"input": image})[0]
    cosine = float((ours * ort).sum() / np.sqrt((ours * ours).sum() * (ort * ort).sum()))
    assert cosine >= 0.999, cosine
    assert np.array_equal(ours > 0, ort > 0), f"{np.mean((ours > 0) != (ort > 0)):.4%} of the mask differs"
    # Measured: equal to the last bit, every layer's quantization the same as ONNX Runtime's.
    np.testing.assert_array_equal(ours, ort)


def test_static_mobilenetv2_matches_onnxruntime_at_every_quantized_tensor(tmp_path):
    # Depthwise and pointwise int8 convolutions, residual QLinearAdds, a float head: with every
    # QuantizeLinear output exposed, each of Kiln's integers equals ONNX Runtime's.
    import onnx
    float_model = export_bench_model("mobilenetv2", tmp_path)
    rng = np.random.default_rng(3)
    samples = [{"input": rng.uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32)} for _ in range(2)]
    quantized = tmp_path / "mobilenetv2.int8.onnx"
    quantize_static(str(float_model), str(quantized), samples)
    model = onnx.load(str(quantized))
    exposed = [n.output[0] for n in model.graph.node if n.op_type == "QuantizeLinear"]
    for name in exposed:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.UINT8, None))
    onnx.save(model, str(tmp_path / "exposed.onnx"))
    image = rng.uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32)
    np.save(tmp_path / "image.npy", image)
    node(ROOT / "bench" / "ort_run.mjs", tmp_path / "exposed.onnx", tmp_path / "ort", f"input={tmp_path / 'image.npy'}")
    session = kiln.InferenceSession(str(tmp_path / "exposed.onnx"))
    ours = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": image})))
    assert len(exposed) > 50
    for name in exposed:
        np.testing.assert_array_equal(ours[name], np.load(tmp_path / "ort" / (name.replace("/", "_") + ".npy")), err_msg=name)
    np.testing.assert_array_equal(ours["output"], np.load(tmp_path / "ort" / "output.npy"))
