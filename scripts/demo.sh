#!/usr/bin/env bash
# Quick start 1: set up, build, classify the held-out handwritten digits shipped in models/digits
# with the CNN trained by models/digits/train_digits.py, and continue a verse with the shipped
# King James Bible Llama (models/kjv).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/kiln run models/digits/digits_cnn.onnx \
  --input image=models/digits/heldout_images.npy \
  --labels models/digits/heldout_labels.npy
build/kiln generate --prompt "Genesis 1:1" --temperature 0 -n 30
