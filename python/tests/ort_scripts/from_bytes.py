# Creating a session from the model's serialized bytes rather than its file name.
import sys

import numpy as np

import kiln as ort

with open(sys.argv[1], "rb") as f:
    model_bytes = f.read()
from_bytes = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
from_file = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])

x = np.random.default_rng(2).standard_normal((3, 1, 8, 8)).astype(np.float32)
a = from_bytes.run(None, {"image": x})[0]
b = from_file.run(None, {"image": x})[0]
print("same outputs:", np.array_equal(a, b))
assert np.array_equal(a, b)
