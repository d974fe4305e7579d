#!/usr/bin/env bash
# Installs what bench/llm/run.sh needs beyond scripts/setup.sh: node-llama-cpp with its prebuilt
# linux-x64 CPU binaries (llama.cpp, the peer Kiln is timed against) into bench/llm/node_modules,
# at the versions pinned in bench/llm/package-lock.json, only when it is missing. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/../bench/llm"

if ! command -v npm >/dev/null; then
  echo "setup_bench_llm: npm not found; install Node.js 20 or newer with npm (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [[ ! -d node_modules/node-llama-cpp ]]; then
  # The install script would look for a GPU or build llama.cpp from source; the CPU binaries come
  # as the @node-llama-cpp/linux-x64 package, a direct dependency, so the script is skipped and the
  # optional per-platform packages (CUDA and Vulkan builds among them, hundreds of MB) are left out.
  npm ci --ignore-scripts --omit=optional --no-audit --no-fund
fi
