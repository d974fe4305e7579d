"""Perplexity of a text file under a saved Hugging Face Llama directory, in PyTorch at float32.

Reads config.json, model.safetensors (any of F32/F16/BF16, widened to float32) and tokenizer.json
itself, without `transformers`, into scripts/llm/llama_reference.py's model.

Each non-empty line is scored as its own sequence: [BOS] + encode(line), with no newline; every
token of the line is predicted (the BOS is context only). Perplexity is
exp(sum of NLL over those tokens / their count), token-level, natural log.

    /usr/bin/python3 models/kjv/eval_perplexity.py models/kjv/heldout.txt [--model models/kjv]
"""
import argparse
import json
import math
import pathlib
import struct
import sys

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts" / "llm"))
import llama_reference  # noqa: E402
import train_tokenizer  # noqa: E402

_NUMPY_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}
_CONFIG_FIELDS = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                  "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta",
                  "rope_scaling", "tie_word_embeddings", "attention_bias", "max_position_embeddings",
                  "bos_token_id", "eos_token_id"]


def read_safetensors(path):
    """{name: float32 tensor} from a safetensors file."""
    data = pathlib.Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _NUMPY_DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected F32, F16 or BF16")
        begin, end = info["data_offsets"]
        raw = np.frombuffer(data[base + begin:base + end], dtype=_NUMPY_DTYPES[info["dtype"]])
        if info["dtype"] == "BF16":
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = torch.from_numpy(raw.astype(np.float32).reshape(info["shape"]))
    return tensors


def load_model(directory):
    directory = pathlib.Path(directory)
    config = json.loads((directory / "config.json").read_text())
    fields = {k: config[k] for k in _CONFIG_FIELDS if k in config}
    cfg = llama_reference.Config(architecture=config["architectures"][0], **fields)
    model = llama_reference.LlamaForCausalLM(cfg)
    state = read_safetensors(directory / "model.safetensors")
    if cfg.tie_word_embeddings:
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    model.load_state_dict(state)
    return model.float().eval()


@torch.no_grad()
def perplexity(model, tok, lines):
    """(perplexity, number of tokens scored) over `lines`, each scored as [BOS] + encode(line)."""
    total, count = 0.0, 0
    limit = model.cfg.max_position_embeddings
    for number, line in enumerate(lines, 1):
        ids = [model.cfg.bos_token_id] + tok.encode(line)
        if len(ids) > limit:
            raise ValueError(f"line {number}: {len(ids)} tokens with BOS, the model's context is {limit}")
        logits = model(torch.tensor([ids]))[0, :-1]
        total += torch.nn.functional.cross_entropy(logits, torch.tensor(ids[1:]), reduction="sum").item()
        count += len(ids) - 1
    return math.exp(total / count), count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("text", help="text file, one sequence per line")
    parser.add_argument("--model", default=str(HERE), help="Hugging Face directory (default: %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = [line for line in pathlib.Path(args.text).read_text().splitlines() if line]
    ppl, count = perplexity(load_model(args.model), train_tokenizer.load(args.model), lines)
    print(f"perplexity {ppl:.4f} over {count} tokens in {len(lines)} lines")


if __name__ == "__main__":
    main()
