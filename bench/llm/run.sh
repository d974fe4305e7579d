#!/usr/bin/env bash
# The side-by-side LLM benchmark of Kiln against llama.cpp (see docs/llm.md, "Benchmarks against
# llama.cpp"):
#   scripts/setup.sh && scripts/build.sh && scripts/setup_bench_llm.sh && bench/llm/run.sh --quick
# Makes the random TinyLlama-shaped models in /tmp/kiln-llm-bench when missing (bench/llm/make_model.py),
# measures the read bandwidth, then runs bench/llm/compare.mjs with the given options (--help lists
# them). Builds nothing itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -d bench/llm/node_modules/node-llama-cpp ]]; then
  echo "bench/llm/run.sh: node-llama-cpp is missing; run scripts/setup_bench_llm.sh first" >&2
  exit 1
fi
exec node bench/llm/compare.mjs "$@"
