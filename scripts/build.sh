#!/usr/bin/env bash
# Configures and builds Kiln into build/ (Release): what the quick start runs (the libraries,
# build/kiln and the Python package build/python/kiln, which Debian's python3 then imports from
# any directory); with --all, also the tests and benchmarks (scripts/test.sh). Building only what
# the demo runs spares a newcomer's first command most of the compile: the test suite is over
# half of it.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
if [[ "${1:-}" == "--all" ]]; then
  cmake --build build -j2
else
  targets=(kiln_cli)
  if grep -q '^KILN_BUILD_PYTHON:BOOL=ON' build/CMakeCache.txt; then targets+=(kiln_python); fi
  cmake --build build -j2 --target "${targets[@]}"
fi

# A .pth file in /usr/bin/python3's site-packages puts build/python on its sys.path.
package_dir="$PWD/build/python"
if [[ -d "$package_dir/kiln" ]]; then
  site_dir="$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')"
  if mkdir -p "$site_dir" 2>/dev/null && echo "$package_dir" 2>/dev/null > "$site_dir/kiln.pth"; then
    echo "build: /usr/bin/python3 imports kiln from $package_dir (through $site_dir/kiln.pth)"
  else
    echo "build: $site_dir/kiln.pth cannot be written; to import kiln, set:" >&2
    echo "PYTHONPATH=$package_dir"
  fi
fi
