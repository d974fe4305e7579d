"""Train a small CNN on scikit-learn's bundled 8x8 digits and export it to ONNX.

The model is Kiln's end-to-end example: it runs in seconds on a CPU, needs no
download, and uses only ops a simple engine supports (Conv, BatchNormalization,
Relu, MaxPool, Flatten, Gemm). Besides the model, the script saves 100 held-out
images with their labels and PyTorch's logits so that tests can compare Kiln's
results against a known reference.

Run with an interpreter that has torch, scikit-learn and onnx:
    python3 models/digits/train_digits.py
"""
import pathlib

import numpy as np
import onnx
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

OUT_DIR = pathlib.Path(__file__).parent
SEED = 0
EPOCHS = 30
SAVED = 100

torch.manual_seed(SEED)
np.random.seed(SEED)
torch.use_deterministic_algorithms(True)
# One thread keeps float reductions in a fixed order, so reruns are bit-identical.
torch.set_num_threads(1)

digits = load_digits()
# Pixels are 0..16 in the bundled data; the engine receives them scaled to [0, 1].
images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
labels = digits.target.astype(np.int64)
x_train, x_test, y_train, y_test = train_test_split(
    images, labels, test_size=0.2, stratify=labels, random_state=SEED)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
    nn.Dropout(0.25),
    nn.Linear(64, 10),
)

train_x, train_y = torch.from_numpy(x_train), torch.from_numpy(y_train)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(EPOCHS):
    model.train()
    order = torch.randperm(len(train_x))
    total = 0.0
    for batch in order.split(64):
        optimizer.zero_grad()
        loss = loss_fn(model(train_x[batch]), train_y[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    if (epoch + 1) % 5 == 0:
        print(f"epoch {epoch + 1:2d}  loss {total / len(train_x):.4f}")

model.eval()
with torch.no_grad():
    test_logits = model(torch.from_numpy(x_test)).numpy()
predicted = test_logits.argmax(axis=1)
print(f"held-out accuracy: {(predicted == y_test).mean():.4f} ({len(y_test)} images)")
print(f"saved-subset accuracy: {(predicted[:SAVED] == y_test[:SAVED]).mean():.4f} "
      f"({SAVED} images)")

np.save(OUT_DIR / "heldout_images.npy", x_test[:SAVED])
np.save(OUT_DIR / "heldout_labels.npy", y_test[:SAVED])
np.save(OUT_DIR / "heldout_logits.npy", test_logits[:SAVED].astype(np.float32))

onnx_path = OUT_DIR / "digits_cnn.onnx"
torch.onnx.export(
    model, torch.zeros(1, 1, 8, 8), str(onnx_path),
    opset_version=13, do_constant_folding=True,
    input_names=["image"], output_names=["logits"],
    dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})

exported = onnx.load(str(onnx_path))
onnx.checker.check_model(exported)
ops = sorted({node.op_type for node in exported.graph.node})
print(f"wrote {onnx_path.name} ({onnx_path.stat().st_size} bytes), ops: {', '.join(ops)}")
