"""What the Python package adds to a run: kiln.InferenceSession.run against `kiln bench` on the same
model, input and threads, alternating the two (A B A B ...) so that both see the same machine.

Usage: /usr/bin/python3 bench/python_overhead.py [--model FILE] [--threads N] [--rounds R] [--runs N]

Each round runs `kiln bench --json` (A: its median of N timed runs after warm-up) and then N timed
runs of session.run in this process (B: their median, after the same warm-up), on the same
random input (seed 0). Prints each round's medians, the medians over rounds and B/A. The default
model is ResNet-50 from bench/export_models.py, exported into build/bench-models/ when missing.

Last, what a call costs when the model does almost nothing: session.run on a one-node Identity
model of 3 floats, the median of 20 batches of 1000 calls. That is Python's whole overhead (the
dict, the array wrapped in place, the GIL released and taken back, the output array) plus Kiln's
run of one node, and it hardly moves with the machine's load.
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from onnx import TensorProto, helper

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "build" / "python"))
import kiln  # noqa: E402  (the package in build/python, after the path above)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "build" / "bench-models" / "resnet50.onnx"))
    parser.add_argument("--kiln", default=str(ROOT / "build" / "kiln"), help="the kiln CLI to compare with")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per round and side")
    parser.add_argument("--warmup", type=int, default=3)
    return parser.parse_args()


def ensure_model(path):
    path = pathlib.Path(path)
    if not path.exists() and path.parent == ROOT / "build" / "bench-models":
        subprocess.run([sys.executable, str(ROOT / "bench" / "export_models.py"), str(path.parent), path.stem],
                       check=True)
    return str(path)


def cli_median_ms(args, input_name, input_file):
    out = subprocess.run([args.kiln, "bench", args.model, "--threads", str(args.threads), "-i", f"{input_name}={input_file}",
                          "--warmup", str(args.warmup), "--iterations", str(args.runs), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_ms"]


def python_median_ms(session, feeds, args):
    for _ in range(args.warmup):
        session.run(None, feeds)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def identity_call_us(scratch):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    model = helper.make_model(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity", [x], [y]))
    path = pathlib.Path(scratch) / "identity.onnx"
    path.write_bytes(model.SerializeToString())
    session = kiln.InferenceSession(str(path))
    feeds = {"x": np.ones((1, 3), np.float32)}
    batches = []
    for _ in range(21):  # the first batch warms up
        start = time.perf_counter()
        for _ in range(1000):
            session.run(None, feeds)
        batches.append((time.perf_counter() - start) * 1000.0)  # ms per 1000 calls = us per call
    return statistics.median(batches[1:])


def main():
    args = parse_args()
    args.model = ensure_model(args.model)
    options = kiln.SessionOptions()
    options.intra_op_num_threads = args.threads
    session = kiln.InferenceSession(args.model, sess_options=options)
    (info,) = session.get_inputs()
    shape = [d if isinstance(d, int) else 1 for d in info.shape]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with tempfile.TemporaryDirectory() as scratch:
        input_file = pathlib.Path(scratch) / "input.npy"
        np.save(input_file, x)
        print(f"{args.model}, {args.threads} thread(s), {args.runs} runs per round; medians in ms")
        print("round  kiln bench (A)  python run (B)  B/A")
        cli, python = [], []
        for r in range(args.rounds):
            cli.append(cli_median_ms(args, info.name, input_file))
            python.append(python_median_ms(session, {info.name: x}, args))
            print(f"{r + 1:5d}  {cli[-1]:14.3f}  {python[-1]:14.3f}  {python[-1] / cli[-1]:.4f}")
        call_us = identity_call_us(scratch)
    a, b = statistics.median(cli), statistics.median(python)
    print(f"median over {args.rounds} rounds: kiln bench {a:.3f} ms, python {b:.3f} ms, python/kiln bench = {b / a:.4f}")
    print(f"session.run on a one-node Identity model from Python: {call_us:.2f} us per call")


if __name__ == "__main__":
    main()
