#!/usr/bin/env bash
# Configures and builds Kiln into build/ (Release): the library, build/kiln and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
