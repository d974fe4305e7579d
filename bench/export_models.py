"""Export the benchmark models with fixed random weights, each with a JSON file of its FLOPs.

Usage: export_models.py OUT_DIR [NAME ...]
NAME is resnet50, mobilenetv2, resnet18, bert-base or unet (default: all). For each it writes
OUT_DIR/NAME.onnx and OUT_DIR/NAME.json:
  {"name": ..., "flops": 2 x the multiply-adds of Conv/Linear/MatMul, "inputs": [{"name", "shape", "dtype"}]}
bench/compare.mjs divides the FLOPs by measured latency to get GFLOP/s.

The vision models are torchvision's, batch 1, 3x224x224, opset 13, input "input", output
"output". bert-base is a BERT-base-shaped encoder written out below (12 layers, hidden 768, 12
heads, intermediate 3072, erf GELU, post-LayerNorm) taking the embeddings `hidden` [1,128,768] and
an additive attention `mask` [1,1,1,128], so no embedding tables or integer inputs; it is
exported at opset 14, where LayerNorm stays decomposed into ReduceMean/Sub/Pow/Sqrt/Div. unet is
a U-Net-style segmentation net (53 convolutions with BatchNorm and ReLU, bilinear Resize up to the
skip's size between decoder stages, skip connections by Concat) on a 3x120x120 image, whose odd
sizes (15 -> 7 by pooling, 7 -> 15 by Resize) make weights no binary fraction holds exactly, with
one mask logit per pixel:
the deep net with upsampling whose dynamic INT8 form (docs/quantization.md) must match ONNX Runtime.

Weights are random (torch.manual_seed(0)): nothing is downloaded. Exits with 77 (skipped) when
torch is not installed.
"""
import json
import math
import pathlib
import sys

try:
    import torch
    import torchvision
    from torch import nn
except ImportError as error:
    print(f"skipping: {error}")
    sys.exit(77)

SEQ, HIDDEN, HEADS, INTERMEDIATE, LAYERS = 128, 768, 12, 3072, 12


class EncoderLayer(nn.Module):
    """One BERT layer: self-attention, then feed-forward, each followed by Add + LayerNorm."""

    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(HIDDEN, HIDDEN) for _ in range(4))
        self.attention_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.up = nn.Linear(HIDDEN, INTERMEDIATE)
        self.gelu = nn.GELU()  # the erf form, as in BERT
        self.down = nn.Linear(INTERMEDIATE, HIDDEN)
        self.output_norm = nn.LayerNorm(HIDDEN, eps=1e-12)

    def heads(self, x):  # [1, SEQ, HIDDEN] -> [1, HEADS, SEQ, HIDDEN / HEADS]
        return x.view(1, SEQ, HEADS, HIDDEN // HEADS).transpose(1, 2)

    def forward(self, x, mask):
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(HIDDEN // HEADS) + mask
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        context = context.transpose(1, 2).reshape(1, SEQ, HIDDEN)
        x = self.attention_norm(x + self.o(context))
        return self.output_norm(x + self.down(self.gelu(self.up(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer() for _ in range(LAYERS))

    def forward(self, hidden, mask):
        for layer in self.layers:
            hidden = layer(hidden, mask)
        return hidden


def conv_block(in_channels, out_channels, convs):
    layers = []
    for i in range(convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
                   nn.BatchNorm2d(out_channels), nn.ReLU()]
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Four encoder stages (6 convolutions each, then 2x2 max pooling), a 4-convolution bottleneck,
    four decoder stages (bilinear upsampling to the skip's size, Concat with it, 6 convolutions),
    and a 1x1 head: 53 convolutions."""

    WIDTHS = (16, 32, 48, 64)

    def __init__(self):
        super().__init__()
        widths = self.WIDTHS
        self.encoders = nn.ModuleList(conv_block(c_in, c_out, 6) for c_in, c_out in zip((3,) + widths[:-1], widths))
        self.bottleneck = conv_block(widths[-1], widths[-1], 4)
        self.decoders = nn.ModuleList(conv_block(2 * c, c_out, 6)
                                      for c, c_out in zip(reversed(widths), tuple(reversed(widths[:-1])) + (widths[0],)))
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, image):
        skips = []
        x = image
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for decoder, skip in zip(self.decoders, reversed(skips)):
            x = nn.functional.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = decoder(torch.cat([x, skip], dim=1))
        return self.head(x)


def calibrate_batch_norm(model, image_size=224):
    """Sets every BatchNorm's running statistics from one train-mode pass over random images.
    With the default ones (mean 0, variance 1) a random-init MobileNetV2's activations shrink to
    ~1e-10 by the output, heading for denormals that would time something no trained model does."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one batch, exactly that batch's statistics
    model.train()
    with torch.no_grad():
        model(torch.randn(8, 3, image_size, image_size))


def vision(build):
    model = build(weights=None)
    calibrate_batch_norm(model)
    return model, {"input": torch.randn(1, 3, 224, 224)}, 13


def bert_base():
    inputs = {"hidden": torch.randn(1, SEQ, HIDDEN), "mask": torch.zeros(1, 1, 1, SEQ)}
    return Encoder(), inputs, 14


def unet():
    model = UNet()
    calibrate_batch_norm(model, 120)
    return model, {"input": torch.randn(1, 3, 120, 120)}, 13


MODELS = {
    "resnet50": lambda: vision(torchvision.models.resnet50),
    "mobilenetv2": lambda: vision(torchvision.models.mobilenet_v2),
    "resnet18": lambda: vision(torchvision.models.resnet18),
    "bert-base": bert_base,
    "unet": unet,
}


def count_flops(model, inputs):
    """2 x multiply-adds of every Conv2d and Linear (from forward hooks) and of the attention
    matmuls (QK^T and softmax(.)V: 2 x HEADS x SEQ x SEQ x head_dim per layer, by formula)."""
    macs = 0

    def conv_hook(conv, _, output):
        nonlocal macs
        kh, kw = conv.kernel_size
        macs += output.numel() * (conv.in_channels // conv.groups) * kh * kw

    def linear_hook(linear, _, output):
        nonlocal macs
        macs += output.numel() * linear.in_features

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        model(*inputs.values())
    for hook in hooks:
        hook.remove()
    attention_layers = sum(isinstance(m, EncoderLayer) for m in model.modules())
    macs += attention_layers * 2 * HEADS * SEQ * SEQ * (HIDDEN // HEADS)
    return 2 * macs


def export(name, out_dir):
    torch.manual_seed(0)
    model, inputs, opset = MODELS[name]()
    model.eval()
    onnx_path = out_dir / f"{name}.onnx"
    output_names = ["output"]
    torch.onnx.export(model, tuple(inputs.values()), str(onnx_path), opset_version=opset,
                      input_names=list(inputs), output_names=output_names)
    info = {
        "name": name,
        "onnx": onnx_path.name,
        "opset": opset,
        "flops": count_flops(model, inputs),
        "inputs": [{"name": k, "shape": list(v.shape), "dtype": "float32"} for k, v in inputs.items()],
    }
    (out_dir / f"{name}.json").write_text(json.dumps(info) + "\n")
    print(f"{onnx_path}: {info['flops'] / 1e9:.2f} GFLOP")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = pathlib.Path(sys.argv[1])
    names = sys.argv[2:] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        export(name, out_dir)


if __name__ == "__main__":
    main()
