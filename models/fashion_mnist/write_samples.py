"""Write Fashion-MNIST samples as .npy files: a calibration folder, or one batch for evaluation.

Default: ONE file per sample, image_00000.npy, image_00001.npy, ... each float32 [1,1,28,28]
(pixels in [0, 1], the models' `image` input), numbered from 0 in the order read: file i holds
sample start + i of the split. That is the shape of a calibration folder, one model input per file.

--batched: a single image.npy float32 [N,1,28,28] and labels.npy int64 [N] instead, which
evaluate.py and ort_predict.mjs read.

    /usr/bin/python3 models/fashion_mnist/write_samples.py --out /tmp/calib --split train --count 500
    /usr/bin/python3 models/fashion_mnist/write_samples.py --out /tmp/test --split test --count 10000 --batched
"""
import argparse
import pathlib
import sys

import numpy as np

import fashion_data


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--out", type=pathlib.Path, required=True, help="folder to write into (made if missing)")
    parser.add_argument("--split", choices=list(fashion_data.SPLITS), required=True, help="which split to read")
    parser.add_argument("--count", type=int, required=True, help="how many samples to write")
    parser.add_argument("--start", type=int, default=0, help="index of the first sample in the split (default 0)")
    parser.add_argument("--batched", action="store_true",
                        help="write one image.npy [N,1,28,28] and labels.npy [N] instead of a file per sample")
    parser.add_argument("--data", type=pathlib.Path, default=fashion_data.DEFAULT_DIR,
                        help=f"folder of the idx .gz files (default {fashion_data.DEFAULT_DIR})")
    args = parser.parse_args()

    size = fashion_data.SPLIT_SIZES[args.split]
    if args.count < 1 or args.start < 0 or args.start + args.count > size:
        parser.error(f"--start {args.start} --count {args.count} is outside the {args.split} split's "
                     f"{size} samples (need count >= 1 and 0 <= start, start + count <= {size})")
    try:
        images, labels = fashion_data.load(args.split, args.data)
    except (OSError, ValueError) as error:
        sys.exit(f"error: {error}")
    images = images[args.start:args.start + args.count]
    labels = labels[args.start:args.start + args.count]

    args.out.mkdir(parents=True, exist_ok=True)
    if args.batched:
        np.save(args.out / "image.npy", np.ascontiguousarray(images))
        np.save(args.out / "labels.npy", labels)
        print(f"wrote {args.out}/image.npy {list(images.shape)} and labels.npy [{len(labels)}] "
              f"({args.split} samples {args.start}..{args.start + args.count - 1})")
    else:
        # Five digits name up to 100,000 files, more than either split holds, so the names sort.
        for i, image in enumerate(images):
            np.save(args.out / f"image_{i:05d}.npy", image[None])
        print(f"wrote {args.out}/image_00000.npy .. image_{args.count - 1:05d}.npy, each [1, 1, 28, 28] "
              f"({args.split} samples {args.start}..{args.start + args.count - 1})")


if __name__ == "__main__":
    main()
