"""Top-1 accuracy of a Fashion-MNIST ONNX model run by Kiln on the 10,000 test images.

    /usr/bin/python3 models/fashion_mnist/evaluate.py models/fashion_mnist/cnn.onnx
    /usr/bin/python3 models/fashion_mnist/evaluate.py cnn.onnx --predictions kiln_cnn.npy
    /usr/bin/python3 models/fashion_mnist/evaluate.py cnn.onnx --compare resnet.onnx
    /usr/bin/python3 models/fashion_mnist/evaluate.py cnn.onnx --compare-predictions ort_cnn.npy

--compare runs a second model through Kiln; --compare-predictions reads another engine's argmax
per image (ort_predict.mjs writes ONNX Runtime's). Either prints the share of images on which the
two agree. Kiln comes from `import kiln` (scripts/build.sh makes it importable; else set
PYTHONPATH=<build>/python).
"""
import argparse
import pathlib
import sys

import numpy as np

import fashion_data

try:
    import kiln
except ImportError as error:
    sys.exit(f"error: cannot import kiln ({error}); build Kiln with scripts/build.sh, or set "
             "PYTHONPATH=<build dir>/python, and run with /usr/bin/python3")


def predict(model_path, images, batch, threads):
    """Kiln's argmax per image, int64 [N]."""
    options = kiln.SessionOptions()
    options.intra_op_num_threads = threads
    session = kiln.InferenceSession(str(model_path), options)
    predictions = []
    for start in range(0, len(images), batch):
        (logits,) = session.run(["logits"], {"image": images[start:start + batch]})
        predictions.append(logits.argmax(axis=1))
    return np.concatenate(predictions).astype(np.int64)


def agreement(a, b):
    return 100.0 * np.mean(a == b)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("model", type=pathlib.Path, help="the ONNX model (input `image`, output `logits`)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N test images (default: all 10,000)")
    parser.add_argument("--batch", type=int, default=500, help="images per run (default 500)")
    parser.add_argument("--threads", type=int, default=1,
                        help="Kiln's intra-op threads (default 1: the machine is shared; 0 is one per core)")
    parser.add_argument("--predictions", type=pathlib.Path, metavar="FILE.npy",
                        help="save Kiln's argmax per image there, int64 [N]")
    parser.add_argument("--compare", type=pathlib.Path, metavar="OTHER.onnx",
                        help="also run this model through Kiln and print the top-1 agreement")
    parser.add_argument("--compare-predictions", type=pathlib.Path, metavar="FILE.npy",
                        help="print the agreement with these int64 [N] predictions (e.g. ort_predict.mjs's)")
    parser.add_argument("--data", type=pathlib.Path, default=fashion_data.DEFAULT_DIR,
                        help=f"folder of the idx .gz files (default {fashion_data.DEFAULT_DIR})")
    args = parser.parse_args()

    for path in (args.model, args.compare, args.compare_predictions):
        if path is not None and not path.is_file():
            parser.error(f"{path} does not exist")
    if args.limit is not None and not 1 <= args.limit <= fashion_data.SPLIT_SIZES["test"]:
        parser.error(f"--limit must be 1..{fashion_data.SPLIT_SIZES['test']}, got {args.limit}")
    if args.batch < 1:
        parser.error(f"--batch must be at least 1, got {args.batch}")
    try:
        images, labels = fashion_data.load("test", args.data)
    except (OSError, ValueError) as error:
        sys.exit(f"error: {error}")
    images, labels = images[:args.limit], labels[:args.limit]

    try:
        predictions = predict(args.model, images, args.batch, args.threads)
        print(f"{args.model}: Kiln top-1 {100.0 * np.mean(predictions == labels):.2f}% "
              f"on {len(labels)} test images")
        if args.predictions:
            np.save(args.predictions, predictions)
            print(f"wrote {args.predictions} (int64 [{len(predictions)}])")
        if args.compare:
            other = predict(args.compare, images, args.batch, args.threads)
            print(f"{args.compare}: Kiln top-1 {100.0 * np.mean(other == labels):.2f}%; "
                  f"agreement with {args.model.name}: {agreement(predictions, other):.2f}%")
    except kiln.KilnError as error:
        sys.exit(f"error: Kiln: {error}")
    if args.compare_predictions:
        other = np.load(args.compare_predictions)
        if other.shape != predictions.shape:
            sys.exit(f"error: {args.compare_predictions} holds shape {list(other.shape)}, expected "
                     f"[{len(predictions)}]: the predictions for the same {len(predictions)} test images")
        differ = np.flatnonzero(other != predictions)
        print(f"{args.compare_predictions}: top-1 {100.0 * np.mean(other == labels):.2f}%; agreement with "
              f"Kiln: {agreement(predictions, other):.2f}% ({len(differ)} images differ"
              f"{': ' + ', '.join(map(str, differ[:10])) if len(differ) else ''}"
              f"{' ...' if len(differ) > 10 else ''})")


if __name__ == "__main__":
    main()
