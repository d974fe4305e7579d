#!/usr/bin/env bash
# The side-by-side benchmark of Kiln against ONNX Runtime (see docs/benchmarks.md):
#   scripts/setup.sh && scripts/build.sh && scripts/setup_bench.sh && bench/run.sh --quick
# Exports the models into build/bench-models when missing, measures the FMA peak, then runs
# bench/compare.mjs with the given options (--help lists them). Builds nothing itself.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d bench/node_modules/onnxruntime-node ]]; then
  echo "bench/run.sh: onnxruntime-node is missing; run scripts/setup_bench.sh first" >&2
  exit 1
fi
exec node bench/compare.mjs "$@"
