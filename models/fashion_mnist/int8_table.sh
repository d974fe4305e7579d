#!/usr/bin/env bash
# The INT8 accuracy table of docs/quantization.md: for cnn.onnx and resnet.onnx, FP32 top-1 on the
# 10,000 Fashion-MNIST test images, then INT8 top-1 per calibration method (minmax, percentile,
# entropy) and weight granularity (per channel, per tensor), each calibrated on the first 1,000
# training images by `kiln quantize`. Needs Debian's dataset-fashion-mnist and a built Kiln
# (scripts/build.sh); writes its samples and models under a temporary folder.
#   models/fashion_mnist/int8_table.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
kiln="$build/kiln"
export PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}"
python=/usr/bin/python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" "$here/write_samples.py" --out "$work/calib" --split train --count 1000 >/dev/null
top1() { "$python" "$here/evaluate.py" "$1" | sed -n 's/.*top-1 \([0-9.]*\)%.*/\1/p'; }

echo "| model | FP32 | method | per-channel | per-tensor |"
echo "| --- | --- | --- | --- | --- |"
for model in cnn resnet; do
  fp32="$(top1 "$here/$model.onnx")"
  for method in minmax percentile entropy; do
    row="| $model | $fp32 | $method |"
    for granularity in "" --per-tensor; do
      out="$work/$model.$method${granularity}.onnx"
      "$kiln" quantize "$here/$model.onnx" -o "$out" --calib "$work/calib" --method "$method" $granularity >/dev/null
      row="$row $(top1 "$out") |"
    done
    echo "$row"
  done
done
