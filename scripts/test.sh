#!/usr/bin/env bash
# Quick start 2: set up, build, and run every test: the Release suite (unit, model and
# conformance tests), the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
# and the concurrency tests (named *Concurrent*) under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# onnxruntime-node, which python/tests/test_ort_agreement.py runs Kiln's quantized models in.
scripts/setup_bench.sh
scripts/build.sh --all

echo "== Release: all tests"
ctest --test-dir build --output-on-failure -j2

echo "== ASan + UBSan: unit tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=address >/dev/null
cmake --build build-asan -j2 --target kiln_tests kiln_concurrency_tests
# Each binary runs as two gtest shards side by side rather than through ctest, which starts one
# process per test: under ASan a start costs a large part of a second, which over 800 tests was
# most of this stage (312 s of test time on a fresh clone of f836bfc).
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
cd build-asan/tests  # where ctest would run them
for binary in ./kiln_tests ./kiln_concurrency_tests; do
  shards=()
  for shard in 0 1; do
    GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=$shard "$binary" --gtest_brief=1 > "$binary.shard$shard.log" 2>&1 &
    shards+=($!)
  done
  for shard in 0 1; do
    if ! wait "${shards[$shard]}"; then
      cat "$binary.shard$shard.log"
      echo "ASan + UBSan: build-asan/tests/$binary shard $shard failed" >&2
      exit 1
    fi
    tail -n 3 "$binary.shard$shard.log"
  done
done
cd ../..

echo "== TSan: concurrency tests"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=thread >/dev/null
cmake --build build-tsan -j2 --target kiln_concurrency_tests
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan -R Concurrent --output-on-failure -j2
