# Free dimension overrides: fix the symbolic 'batch' dim so the session is planned for it.
import sys

import numpy as np

import kiln as ort

sess_options = ort.SessionOptions()
sess_options.add_free_dimension_override_by_name("batch", 1)
session = ort.InferenceSession(sys.argv[1], sess_options, providers=["CPUExecutionProvider"])
print("input shape:", session.get_inputs()[0].shape)
assert session.get_inputs()[0].shape == [1, 1, 8, 8]
logits = session.run(None, {"image": np.zeros((1, 1, 8, 8), dtype=np.float32)})[0]
print("output shape:", logits.shape)
assert logits.shape == (1, 10)
