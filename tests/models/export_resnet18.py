"""Export a fixed-random ResNet-18 plus a reference input and PyTorch's output.

A CTest test runs this to get OUT_DIR/resnet18.onnx, OUT_DIR/input.npy and
OUT_DIR/expected_output.npy, then checks that Kiln's output for the model
matches PyTorch's within 1e-4. Weights are random but seeded, so no download
is needed and every run produces the same files.

Usage: export_resnet18.py OUT_DIR
Exits with 77 (CTest's "skipped") when torch is not installed.
"""
import pathlib
import sys

try:
    import torch
    import torchvision
except ImportError as error:
    print(f"skipping: {error}")
    sys.exit(77)
import numpy as np


def build_resnet18():
    try:
        return torchvision.models.resnet18(weights=None)
    except TypeError:  # torchvision older than 0.13 lacks `weights`
        return torchvision.models.resnet18(pretrained=False)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(0)
    model = build_resnet18().eval()
    torch.manual_seed(1)
    image = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        expected = model(image)

    torch.onnx.export(model, image, str(out_dir / "resnet18.onnx"),
                      opset_version=13, input_names=["input"],
                      output_names=["output"])
    np.save(out_dir / "input.npy", image.numpy())
    np.save(out_dir / "expected_output.npy", expected.numpy().astype(np.float32))


if __name__ == "__main__":
    main()
