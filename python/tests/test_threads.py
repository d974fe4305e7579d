"""run() releases the GIL: while one Python thread is inside a long run, others execute Python
code and run the same session at the same time. Shown by events inside the run's time window,
not by timing ratios, which a shared 2-core machine makes unreliable."""

import threading
import time

import numpy as np
import pytest

import kiln
import onnx_models


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    options = kiln.SessionOptions()
    options.intra_op_num_threads = 1
    path = onnx_models.save(onnx_models.matmul_chain(), tmp_path_factory.mktemp("m") / "chain.onnx")
    session = kiln.InferenceSession(path, sess_options=options)
    x = np.random.default_rng(1).standard_normal((1024, 1024)).astype(np.float32)
    session.run(None, {"x": x})  # first run: memory pattern, packed scratch
    return session, x


def _timed_run(session, x, spans, results, index):
    start = time.perf_counter()
    results[index] = session.run(None, {"x": x})[0]
    spans[index] = (start, time.perf_counter())


def test_python_keeps_running_while_another_thread_is_inside_run(slow):
    session, x = slow
    spans, results = [None], [None]
    runner = threading.Thread(target=_timed_run, args=(session, x, spans, results, 0))
    ticks = []
    runner.start()
    while runner.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    runner.join()
    start, end = spans[0]
    # The middle of the run, clear of the moments the runner itself held the GIL around the call.
    inner = [t for t in ticks if start + 0.2 * (end - start) < t < end - 0.2 * (end - start)]
    assert end - start > 0.05, "the model ran too fast to tell anything"
    assert len(inner) >= 5, f"{len(inner)} ticks during the middle of a {end - start:.3f} s run"


def test_a_second_thread_enters_run_while_the_first_is_inside_it(slow):
    session, x = slow
    spans, results, entering = [None, None], [None, None], []
    first_entering = threading.Event()

    def first():
        entering.append(time.perf_counter())
        first_entering.set()
        _timed_run(session, x, spans, results, 0)

    def second():
        first_entering.wait()
        # Time can be seen to pass only while this thread holds the GIL: had the first kept it
        # through its run, this loop would end only after that run did.
        while spans[0] is None and time.perf_counter() < entering[0] + 0.02:
            time.sleep(0.001)
        _timed_run(session, x, spans, results, 1)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (first_start, first_end), (second_start, second_end) = spans
    assert first_end - first_start > 0.1, "the model ran too fast to tell anything"
    assert second_start < first_end, f"the second run began {second_start - first_end:.3f} s after the first ended"
    # Rows of a product chain are independent: the first 8 suffice, and cost numpy little.
    expected = x[:8].astype(np.float64)
    for _ in range(onnx_models.CHAIN_STEPS):
        expected = expected @ onnx_models.matmul_chain_weight()
    for result in results:
        np.testing.assert_allclose(result[:8], expected, rtol=1e-3, atol=1e-3)


def test_concurrent_runs_give_each_thread_its_own_result(digits_model):
    session = kiln.InferenceSession(digits_model)
    rng = np.random.default_rng(7)
    images = [rng.standard_normal((3, 1, 8, 8)).astype(np.float32) for _ in range(8)]
    expected = [onnx_models.digits_reference(digits_model, i) for i in images]
    results = [None] * len(images)

    def work(i):
        for _ in range(20):
            results[i] = session.run(None, {"image": images[i]})[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_thirty_two_threads_get_the_single_threaded_results_bit_for_bit(digits_model):
    """The concurrency contract: one session shared by 32 Python threads, every run's output
    identical to the bit to what a single caller gets for the same input."""
    options = kiln.SessionOptions()
    options.intra_op_num_threads = 2
    session = kiln.InferenceSession(digits_model, sess_options=options)
    rng = np.random.default_rng(32)
    images = [rng.standard_normal((1 + i % 3, 1, 8, 8)).astype(np.float32) for i in range(6)]
    expected = [session.run(None, {"image": image})[0] for image in images]
    mismatches = []
    start = threading.Barrier(32)

    def work(t):
        start.wait()
        for run in range(25):
            which = (t + run) % len(images)
            got = session.run(None, {"image": images[which]})[0]
            if not np.array_equal(got, expected[which]):
                mismatches.append((t, run))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert mismatches == []
