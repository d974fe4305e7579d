# SessionOptions: thread counts and graph optimization levels; every level gives the same result.
import sys

import numpy as np

import kiln as ort

model_path = sys.argv[1]
x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)

results = {}
for level in (ort.GraphOptimizationLevel.ORT_DISABLE_ALL, ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED, ort.GraphOptimizationLevel.ORT_ENABLE_ALL):
    sess_options = ort.SessionOptions()
    sess_options.intra_op_num_threads = 2
    sess_options.inter_op_num_threads = 1
    sess_options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess_options.graph_optimization_level = level
    session = ort.InferenceSession(model_path, sess_options, providers=["CPUExecutionProvider"])
    results[level] = session.run(None, {"image": x})[0]

reference = results[ort.GraphOptimizationLevel.ORT_DISABLE_ALL]
for level, output in results.items():
    difference = float(np.abs(output - reference).max())
    print(f"{level.name}: max difference {difference:.2e}")
    assert difference < 1e-4, (level, difference)
