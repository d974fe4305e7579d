"""Fashion-MNIST from the idx files of Debian's dataset-fashion-mnist package.

load("train") / load("test") return (images, labels): images float32 [N,1,28,28] scaled to [0, 1]
(pixel / 255, nothing else: any mean/std normalisation lives inside the exported models, so that
Kiln, ORT and calibration data all see plain pixels), labels int64 [N] in 0..9.

The idx format (http://yann.lecun.com/exdb/mnist/): a big-endian header of a magic number
(0x00000801 labels, 0x00000803 images: unsigned bytes, 1 or 3 dims), one uint32 per dim, then the
uint8 data in C order.

    /usr/bin/python3 models/fashion_mnist/fashion_data.py    # prints a summary of both splits
"""
import argparse
import gzip
import pathlib

import numpy as np

DEFAULT_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
# The file prefix of each split, as the package (and the original dataset) names them.
SPLITS = {"train": "train", "test": "t10k"}
SPLIT_SIZES = {"train": 60000, "test": 10000}
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_idx(path, magic, ndim):
    """Returns the uint8 array stored in the gzipped idx file `path`, checked against its header."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist; install Debian's dataset-fashion-mnist or pass --data DIR")
    raw = gzip.decompress(path.read_bytes())
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{path}: {len(raw)} bytes is shorter than the {header_size}-byte idx header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: magic number 0x{found:08x}, expected 0x{magic:08x} "
                         f"(uint8 data with {ndim} dim{'s' if ndim > 1 else ''})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(f"{path}: header says shape {list(shape)}, which needs {expected} bytes, "
                         f"but the file holds {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def load(split, data_dir=DEFAULT_DIR):
    """Returns (images float32 [N,1,28,28] in [0,1], labels int64 [N]) of split 'train' or 'test'."""
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; the splits are: {', '.join(SPLITS)}")
    data_dir = pathlib.Path(data_dir)
    prefix = SPLITS[split]
    images = read_idx(data_dir / f"{prefix}-images-idx3-ubyte.gz", IMAGES_MAGIC, 3)
    labels = read_idx(data_dir / f"{prefix}-labels-idx1-ubyte.gz", LABELS_MAGIC, 1)
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{split} images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    if len(images) != len(labels):
        raise ValueError(f"{split}: {len(images)} images but {len(labels)} labels")
    if len(images) != SPLIT_SIZES[split]:
        raise ValueError(f"{split}: {len(images)} samples, expected {SPLIT_SIZES[split]}")
    if labels.max() >= len(CLASSES):
        raise ValueError(f"{split}: label {labels.max()} is out of range 0..{len(CLASSES) - 1}")
    images = (images.astype(np.float32) / 255.0)[:, None, :, :]
    return images, labels.astype(np.int64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DIR, type=pathlib.Path,
                        help=f"folder of the idx .gz files (default {DEFAULT_DIR})")
    args = parser.parse_args()
    for split in SPLITS:
        images, labels = load(split, args.data)
        print(f"{split}: images {images.dtype} {list(images.shape)} in [{images.min()}, {images.max()}], "
              f"mean {images.mean():.4f} std {images.std():.4f}; labels {labels.dtype} "
              f"per class {np.bincount(labels).tolist()}")


if __name__ == "__main__":
    main()
