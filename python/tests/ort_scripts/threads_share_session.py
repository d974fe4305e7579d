# One session shared by a pool of Python threads, each running its own inputs.
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import kiln as ort

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
rng = np.random.default_rng(3)
batches = [rng.standard_normal((2, 1, 8, 8)).astype(np.float32) for _ in range(16)]
sequential = [session.run(None, {"image": x})[0] for x in batches]

with ThreadPoolExecutor(max_workers=4) as pool:
    parallel = list(pool.map(lambda x: session.run(None, {"image": x})[0], batches))

assert all(np.array_equal(s, p) for s, p in zip(sequential, parallel))
print(f"{len(batches)} runs on 4 threads match the sequential runs")
