#!/usr/bin/env bash
# Engine files against ONNX files and ONNX Runtime: session creation and peak RSS (see
# docs/engine.md, "Loading"):
#   scripts/setup.sh && scripts/build.sh --all && scripts/setup_bench.sh && bench/engine_load.sh --llm
# Exports the models into build/bench-models when missing (and with --llm makes the TinyLlama-shaped
# ones in /tmp/kiln-llm-bench), builds their engines into a temporary folder, then runs
# bench/engine_load.mjs with the given options (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d bench/node_modules/onnxruntime-node ]]; then
  echo "bench/engine_load.sh: onnxruntime-node is missing; run scripts/setup_bench.sh first" >&2
  exit 1
fi
exec node bench/engine_load.mjs "$@"
