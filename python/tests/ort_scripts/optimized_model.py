# Saving the optimized graph with optimized_model_filepath, then running the saved file as it is.
import os
import sys

import numpy as np

import kiln as ort

model_path = sys.argv[1]
sess_options = ort.SessionOptions()
sess_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
sess_options.optimized_model_filepath = "optimized_model.onnx"
session = ort.InferenceSession(model_path, sess_options, providers=["CPUExecutionProvider"])
assert os.path.exists("optimized_model.onnx")

x = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
expected = session.run(None, {"image": x})[0]

plain = ort.SessionOptions()
plain.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
reloaded = ort.InferenceSession("optimized_model.onnx", plain, providers=["CPUExecutionProvider"])
difference = float(np.abs(reloaded.run(None, {"image": x})[0] - expected).max())
print("saved optimized model; max difference", difference)
assert difference < 1e-5
