"""Train the two Fashion-MNIST models and export them to ONNX: cnn.onnx and resnet.onnx.

They are FP32 reference models for Kiln's INT8 work: a plain CNN (Conv, Relu, MaxPool, Gemm) and a
residual net (Conv with folded BatchNorm, Add, GlobalAveragePool), each a few epochs of training on
one CPU thread. Every model takes `image` float32 [batch,1,28,28] of plain pixels in [0, 1] (the
mean/std normalisation is the model's first two nodes, Sub and Div) and returns `logits` [batch,10].

    /usr/bin/python3 models/fashion_mnist/train.py | tee models/fashion_mnist/train_log.txt
"""
import argparse
import pathlib
import sys
import time

import numpy as np
import onnx
import torch
from torch import nn

import fashion_data

HERE = pathlib.Path(__file__).parent
SEED = 0
BATCH = 128
# Epochs per model: chosen so that each trains in under ~6 minutes on one thread of the shared
# machine (50-65 s per epoch for either when the other core is not saturated; README.md).
EPOCHS = {"cnn": 5, "resnet": 5}
MAX_LR = {"cnn": 3e-3, "resnet": 3e-3}


class Normalize(nn.Module):
    """(x - mean) / std with the training set's statistics; exported as Sub and Div, so that the
    model's input stays plain [0, 1] pixels."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.std


def make_cnn(mean, std):
    # Unpadded convs: 28 -> 26 -> 24 -> pool 12 -> 10 -> pool 5, so the Gemm reads 64*5*5 = 1600
    # values (padded convs would make it 3136 and the file ~1.7 MB). Biases are off where a
    # BatchNorm follows, as the BatchNorm's shift replaces them.
    return nn.Sequential(
        Normalize(mean, std),
        nn.Conv2d(1, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 5 * 5, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 convs with BatchNorm; a 1x1 conv projects the shortcut where
    the block changes the width or the resolution, the identity otherwise."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


def make_resnet(mean, std, widths=(32, 48, 64)):
    # A 16-channel stem at 28x28, then stages at 14x14, 7x7 and 4x4: each stage's first block has
    # stride 2 and a projected shortcut, its second an identity one. Stages at 28/14/7 (widths
    # 16/32/64) trained at 83-104 s per epoch here against 51-54 s for these, so fewer epochs fit
    # the time budget; the widths stop at 64 to keep the file near 1 MB.
    layers = [Normalize(mean, std), nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for width in widths:
        layers += [BasicBlock(cin, width, 2), BasicBlock(width, width, 1)]
        cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10)]
    return nn.Sequential(*layers)


MODELS = {"cnn": make_cnn, "resnet": make_resnet}


def top1(model, images, labels, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch):
            logits = model(images[start:start + batch].contiguous(memory_format=torch.channels_last))
            correct += (logits.argmax(1) == labels[start:start + batch]).sum().item()
    return 100.0 * correct / len(images)


def train(name, epochs, train_x, train_y, test_x, test_y):
    # Seeded per model, so that each model is the same whether or not the other one is trained.
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    mean, std = train_x.mean().item(), train_x.std().item()
    # Channels-last runs the convs through oneDNN without reorders: 121 against 157 ms per CNN
    # batch, measured on one thread here.
    model = MODELS[name](mean, std).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=MAX_LR[name], weight_decay=1e-4)
    steps_per_epoch = (len(train_x) + BATCH - 1) // BATCH
    # One-cycle: the warm-up lets Adam start at a high rate with BatchNorm, and the annealing to
    # near zero is what makes a few epochs enough.
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=MAX_LR[name], epochs=epochs, steps_per_epoch=steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    parameters = sum(p.numel() for p in model.parameters())
    print(f"{name}: {parameters:,} parameters, {epochs} epochs of {steps_per_epoch} batches of {BATCH}")
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        epoch_start = time.perf_counter()
        total_loss, correct = 0.0, 0
        for batch in torch.randperm(len(train_x), generator=generator).split(BATCH):
            x = train_x[batch].contiguous(memory_format=torch.channels_last)
            y = train_y[batch]
            optimizer.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(batch)
            correct += (logits.argmax(1) == y).sum().item()
        print(f"  epoch {epoch + 1}: loss {total_loss / len(train_x):.4f}, "
              f"train top-1 {100.0 * correct / len(train_x):.2f}%, "
              f"{time.perf_counter() - epoch_start:.0f} s", flush=True)
    seconds = time.perf_counter() - start
    accuracy = top1(model, test_x, test_y)
    print(f"  trained in {seconds:.0f} s; FP32 test top-1 (torch, 10,000 images): {accuracy:.2f}%")
    return model.to(memory_format=torch.contiguous_format).eval()


def export(model, path):
    torch.onnx.export(
        model.eval(), torch.zeros(1, 1, 28, 28), str(path),
        opset_version=13, do_constant_folding=True,
        input_names=["image"], output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    exported = onnx.load(str(path))
    onnx.checker.check_model(exported)
    ops = sorted({node.op_type for node in exported.graph.node})
    print(f"  wrote {path} ({path.stat().st_size:,} bytes), ops: {', '.join(ops)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=HERE,
                        help="folder for cnn.onnx and resnet.onnx (default: this script's folder)")
    parser.add_argument("--data", type=pathlib.Path, default=fashion_data.DEFAULT_DIR,
                        help=f"folder of the idx .gz files (default {fashion_data.DEFAULT_DIR})")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS),
                        help="which models to train (default: all)")
    parser.add_argument("--epochs", type=int,
                        help=f"epochs for every model, for quick trials (default: {EPOCHS})")
    args = parser.parse_args()

    # One thread keeps float reductions in a fixed order, so reruns are bit-identical; the
    # machine's other core belongs to compile jobs.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    np.random.seed(SEED)
    try:
        train_x, train_y = (torch.from_numpy(a) for a in fashion_data.load("train", args.data))
        test_x, test_y = (torch.from_numpy(a) for a in fashion_data.load("test", args.data))
    except (OSError, ValueError) as error:
        sys.exit(f"error: {error}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        model = train(name, args.epochs or EPOCHS[name], train_x, train_y, test_x, test_y)
        export(model, args.out / f"{name}.onnx")


if __name__ == "__main__":
    main()
