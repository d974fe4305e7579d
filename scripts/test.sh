#!/usr/bin/env bash
# Quick start 2: set up, build, and run every test: the Release suite (unit, model and
# conformance tests), the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
# and the concurrency tests (named *Concurrent*) under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh

echo "== Release: all tests"
ctest --test-dir build --output-on-failure -j2

echo "== ASan + UBSan: unit tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=address >/dev/null
cmake --build build-asan -j2 --target kiln_tests kiln_concurrency_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j2

echo "== TSan: concurrency tests"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=thread >/dev/null
cmake --build build-tsan -j2 --target kiln_concurrency_tests
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan -R Concurrent --output-on-failure -j2
