"""Writes the LLM parity fixtures: tiny random Llama-family checkpoints in Hugging Face layout,
each with the reference model's logits at every position of a fixed prompt and its greedy
continuation. Kiln's tests (tests/llama_parity_test.cc) must reproduce them.

    /usr/bin/python3 scripts/llm/make_parity_fixtures.py tests/llm_fixtures
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_reference as ref  # noqa: E402

BASE = dict(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
            rms_norm_eps=1e-5, max_position_embeddings=64)
CASES = {
    "llama_mha": dict(num_key_value_heads=4),
    "llama_gqa_tied": dict(num_key_value_heads=2, tie_word_embeddings=True),
    # head_dim 16 with 4 heads: the attention width (64) differs from the hidden size (32).
    "llama_mqa_wide_heads": dict(num_key_value_heads=1, head_dim=16),
    "llama_attention_bias": dict(num_key_value_heads=2, attention_bias=True),
    "qwen2_qkv_bias": dict(architecture="Qwen2ForCausalLM", num_key_value_heads=2, tie_word_embeddings=True,
                           rope_theta=1000000.0, rms_norm_eps=1e-6),
    # An original context of 8 positions puts the prompt's positions in all three llama3 bands.
    "llama3_rope_scaling": dict(num_key_value_heads=2, rope_theta=500000.0,
                                rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                              "high_freq_factor": 4.0, "original_max_position_embeddings": 8}),
}
PROMPT_LENGTH, GREEDY_TOKENS = 20, 12


def randomize(model, generator):
    """Default initialisation leaves norms at one and biases small: spread every parameter so that
    a misplaced norm weight or bias shows in the logits."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layernorm.weight") or name == "model.norm.weight":
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))


def main(out_root):
    for index, (name, options) in enumerate(CASES.items()):
        cfg = ref.Config(**(BASE | options))
        generator = torch.Generator().manual_seed(1234 + index)
        model = ref.LlamaForCausalLM(cfg)
        randomize(model, generator)
        prompt = torch.randint(0, cfg.vocab_size, (PROMPT_LENGTH,), generator=generator).tolist()
        with torch.no_grad():
            logits = model(torch.tensor([prompt]))[0]
        directory = os.path.join(out_root, name)
        ref.save_hf(model, directory)
        np.save(os.path.join(directory, "logits.npy"), logits.numpy().astype(np.float32))
        with open(os.path.join(directory, "expected.json"), "w") as f:
            json.dump({"prompt": prompt, "greedy": model.greedy(prompt, GREEDY_TOKENS)}, f)
        print(name, "->", directory)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/llm_fixtures")
