# Profiling: enable it in SessionOptions, run, then end_profiling() names the JSON trace it wrote.
import json
import sys

import numpy as np

import kiln as ort

options = ort.SessionOptions()
options.enable_profiling = True
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
x = np.zeros((1, 1, 8, 8), dtype=np.float32)
for _ in range(3):
    session.run(None, {"image": x})
profile_file = session.end_profiling()
print("profile:", profile_file)

with open(profile_file) as f:
    trace = json.load(f)
events = trace if isinstance(trace, list) else trace["traceEvents"]
nodes = [e for e in events if e.get("cat") == "Node"]
print("node events:", len(nodes))
assert len(nodes) >= 3, len(nodes)
