"""Small ONNX models made with onnx.helper (ONNX 1.12: opset 17 at most) for the tests, and a
numpy reference of the shipped digits CNN."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def _model(nodes, inputs, outputs, initializers=(), check=True):
    graph = helper.make_graph(nodes, "test", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    if check:
        onnx.checker.check_model(model)
    return model


def save(model, path):
    onnx.save(model, str(path))
    return str(path)


def identity(elem_type=TensorProto.FLOAT, shape=("n", 3)):
    """y = Identity(x): Kiln's output is the input tensor itself."""
    return _model([helper.make_node("Identity", ["x"], ["y"])],
                  [helper.make_tensor_value_info("x", elem_type, list(shape))],
                  [helper.make_tensor_value_info("y", elem_type, list(shape))])


def add_and_mul():
    """sum = a + b, prod = a * b over float [2, 3]; a second output to pick by name."""
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in ("a", "b")]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in ("sum", "prod")]
    return _model([helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Mul", ["a", "b"], ["prod"])],
                  inputs, outputs)


def constant_output():
    """y = x + 1 and c, an initializer returned as it is."""
    c = numpy_helper.from_array(np.arange(4, dtype=np.float32), "c_value")
    return _model([helper.make_node("Add", ["x", "one"], ["y"]), helper.make_node("Identity", ["c_value"], ["c"])],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4]),
                   helper.make_tensor_value_info("c", TensorProto.FLOAT, [4])],
                  [c, numpy_helper.from_array(np.ones(4, np.float32), "one")])


def overridable_bias():
    """y = x + bias, where bias is an initializer also listed as a graph input (IR 4+), so a run
    may feed it."""
    bias = numpy_helper.from_array(np.array([1, 2, 3], np.float32), "bias")
    return _model([helper.make_node("Add", ["x", "bias"], ["y"])],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3]),
                   helper.make_tensor_value_info("bias", TensorProto.FLOAT, [3])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])], [bias])


def with_metadata():
    """Identity with every field onnxruntime's ModelMetadata reports."""
    model = identity()
    model.producer_name, model.producer_version = "kiln-tests", "1.2"
    model.domain, model.model_version, model.doc_string = "ai.kiln.test", 7, "a model about itself"
    model.graph.name, model.graph.doc_string = "metadata_graph", "the graph's own words"
    helper.set_model_props(model, {"author": "tests", "license": "none"})
    return model


def dims():
    """Inputs with a named symbolic dim, an unnamed unknown dim, and no shape at all (which ONNX's
    checker refuses for a graph input, and onnxruntime reports as [])."""
    named = helper.make_tensor_value_info("named", TensorProto.INT64, ["batch", 4])
    unnamed = helper.make_tensor_value_info("unnamed", TensorProto.DOUBLE, [2, None])
    unnamed.type.tensor_type.shape.dim[1].Clear()
    rankless = helper.make_tensor_value_info("rankless", TensorProto.FLOAT, None)
    return _model([helper.make_node("Identity", ["named"], ["named_out"]),
                   helper.make_node("Identity", ["unnamed"], ["unnamed_out"]),
                   helper.make_node("Identity", ["rankless"], ["rankless_out"])],
                  [named, unnamed, rankless],
                  [helper.make_tensor_value_info("named_out", TensorProto.INT64, ["batch", 4]),
                   helper.make_tensor_value_info("unnamed_out", TensorProto.DOUBLE, [2, None]),
                   helper.make_tensor_value_info("rankless_out", TensorProto.FLOAT, None)], check=False)


CHAIN_SIZE, CHAIN_STEPS = 1024, 16


def matmul_chain_weight():
    """matmul_chain's W: normal values scaled by 1/sqrt(size), so that products stay near 1."""
    rng = np.random.default_rng(0)
    return (rng.standard_normal((CHAIN_SIZE, CHAIN_SIZE)) / np.sqrt(CHAIN_SIZE)).astype(np.float32)


def matmul_chain():
    """x @ W, CHAIN_STEPS times: about 2 * 1024^3 * 16 = 34 GFLOP, a run long enough to watch other
    threads during it."""
    size, steps, w = CHAIN_SIZE, CHAIN_STEPS, matmul_chain_weight()
    nodes, last = [], "x"
    for i in range(steps):
        out = "y" if i == steps - 1 else f"h{i}"
        nodes.append(helper.make_node("MatMul", [last, "w"], [out]))
        last = out
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [size, size])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [size, size])],
                  [numpy_helper.from_array(w, "w")])


def unsupported_op():
    """A node of a domain Kiln has no kernels for."""
    model = _model([helper.make_node("Relu", ["x"], ["y"])],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model.graph.node[0].op_type, model.graph.node[0].domain = "Frobnicate", "com.example"
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    return model


def digits_reference(model_path, images):
    """The digits CNN computed with numpy from the model's own weights: Conv 3x3 pad 1, ReLU, Conv
    3x3 pad 1, ReLU, MaxPool 2x2, Flatten, Gemm, ReLU, Gemm."""
    model = onnx.load(model_path)
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]

    def conv(x, node):
        weight, bias = w[node.input[1]], w[node.input[2]]
        padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # n c h w 3 3
        return np.einsum("nchwij,ocij->nohw", windows, weight) + bias[None, :, None, None]

    x = images.astype(np.float64)
    x = np.maximum(conv(x, convs[0]), 0)
    x = np.maximum(conv(x, convs[1]), 0)
    n, c, h, wd = x.shape
    x = x.reshape(n, c, h // 2, 2, wd // 2, 2).max(axis=(3, 5)).reshape(n, -1)
    x = np.maximum(x @ w[gemms[0].input[1]].T + w[gemms[0].input[2]], 0)
    return x @ w[gemms[1].input[1]].T + w[gemms[1].input[2]]
