#!/usr/bin/env bash
# Installs what bench/run.sh needs beyond scripts/setup.sh: onnxruntime-node (ONNX Runtime's CPU
# execution provider, the peer Kiln is timed against) into bench/node_modules, at the version
# pinned in bench/package-lock.json, only when it is missing. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/../bench"

if ! command -v npm >/dev/null; then
  echo "setup_bench: npm not found; install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [[ ! -d node_modules/onnxruntime-node ]]; then
  # The package's install script would fetch optional GPU provider files, which fails offline;
  # the CPU provider ships inside the package, so the script is skipped.
  export ONNXRUNTIME_NODE_INSTALL=skip
  npm ci --ignore-scripts --no-audit --no-fund
fi
