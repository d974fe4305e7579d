# run() with the outputs named, in the order asked, or all of them with None.
import sys

import numpy as np

import kiln as ort

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
a = np.arange(6, dtype=np.float32).reshape(2, 3)
b = np.full((2, 3), 2.0, dtype=np.float32)

prod, total = session.run(["prod", "sum"], {"a": a, "b": b})
assert np.array_equal(prod, a * b) and np.array_equal(total, a + b)
everything = session.run(None, {"a": a, "b": b})
assert [o.name for o in session.get_outputs()] == ["sum", "prod"]
assert np.array_equal(everything[0], a + b) and np.array_equal(everything[1], a * b)
print("sum:", everything[0].tolist())
print("prod:", everything[1].tolist())
