#!/usr/bin/python3
"""A TinyLlama-1.1B-shaped Llama with random weights, for bench/llm/run.sh, written twice over:
as a Hugging Face directory (config.json + f16 model.safetensors) that Kiln reads, and as GGUF
files F16, Q8_0 and Q4_0 of the same f16 weights that llama.cpp reads.

    /usr/bin/python3 bench/llm/make_model.py [OUT_DIR]     (default /tmp/kiln-llm-bench)

writes OUT_DIR/hf/{config.json,model.safetensors} and OUT_DIR/model-{f16,q8_0,q4_0}.gguf. The GGUF
files are what convert_hf_to_gguf.py and then llama-quantize (no imatrix) would make of the HF
directory: Q and K rows permuted into ggml's rotary layout, norms F32, every matrix including
token_embd and output in the file's type (llama-quantize's default for Q4_0 would make output
Q6_K, which this script does not write; Q4_0 keeps the head in the format Kiln's int4 uses), and
ggml's reference quantizers reproduced bit for bit. The tokenizer is a dummy SentencePiece-style
vocabulary, there only so that llama.cpp accepts the file; the benchmark feeds token ids.

Each tensor is drawn once, in a fixed order from one seeded generator, and written to all four
files before the next is drawn, so memory stays near one tensor's worth (~1 GB at the embedding).
"""
import json
import os
import struct
import sys

import numpy as np

SEED = 1234
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 2048,
    "intermediate_size": 5632,
    "num_hidden_layers": 22,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "head_dim": 64,
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "vocab_size": 32000,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float16",
}
WEIGHT_STD = np.float32(0.02)  # keeps q.k, the MLP and the residual stream far from f16's range

# ggml type ids, bytes per block and elements per block.
F32, F16, Q4_0, Q8_0 = 0, 1, 2, 8
BLOCK = {F32: (4, 1), F16: (2, 1), Q4_0: (18, 32), Q8_0: (34, 32)}
# GGUF file kinds: ggml type of every matrix, and llama_ftype for general.file_type.
FORMATS = {"f16": (F16, 1), "q8_0": (Q8_0, 7), "q4_0": (Q4_0, 2)}
ALIGNMENT = 32
CHUNK_ROWS_ELEMENTS = 1 << 22  # quantize this many elements at a time to bound the temporaries


def tensor_list(c):
    """(hf name, gguf name, shape [out, in] or [n], heads whose Q/K rows are permuted or None)."""
    h, kv = c["num_attention_heads"], c["num_key_value_heads"]
    d, f, hd = c["hidden_size"], c["intermediate_size"], c["head_dim"]
    out = [("model.embed_tokens.weight", "token_embd.weight", (c["vocab_size"], d), None)]
    for i in range(c["num_hidden_layers"]):
        hf, gg = f"model.layers.{i}.", f"blk.{i}."
        out += [
            (hf + "input_layernorm.weight", gg + "attn_norm.weight", (d,), None),
            (hf + "self_attn.q_proj.weight", gg + "attn_q.weight", (h * hd, d), h),
            (hf + "self_attn.k_proj.weight", gg + "attn_k.weight", (kv * hd, d), kv),
            (hf + "self_attn.v_proj.weight", gg + "attn_v.weight", (kv * hd, d), None),
            (hf + "self_attn.o_proj.weight", gg + "attn_output.weight", (d, h * hd), None),
            (hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", (d,), None),
            (hf + "mlp.gate_proj.weight", gg + "ffn_gate.weight", (f, d), None),
            (hf + "mlp.up_proj.weight", gg + "ffn_up.weight", (f, d), None),
            (hf + "mlp.down_proj.weight", gg + "ffn_down.weight", (d, f), None),
        ]
    out += [("model.norm.weight", "output_norm.weight", (d,), None),
            ("lm_head.weight", "output.weight", (c["vocab_size"], d), None)]
    return out


def permute_qk(w, heads):
    """convert_hf_to_gguf's LlamaModel.permute: per head, rows [2, hd/2] become [hd/2, 2]."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def round_half_away(v):
    """C's roundf (ties away from zero), which np.round (ties to even) is not."""
    whole = np.trunc(v)
    return whole + np.where(np.abs(v - whole) >= np.float32(0.5), np.sign(v), np.float32(0))


def quantize_q8_0(x):
    """ggml's quantize_row_q8_0_ref on float32 rows: d = max|x| / 127, q = roundf(x * (1/d))."""
    b = x.reshape(-1, 32)
    d = np.abs(b).max(axis=1) / np.float32(127)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    q = round_half_away(b * inv[:, None]).astype(np.int8)
    out = np.empty((b.shape[0], 34), np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out


def quantize_q4_0(x):
    """ggml's quantize_row_q4_0_ref: d = (the first x of largest |x|, sign kept) / -8,
    q = min(15, (int8)(x * (1/d) + 8.5)); byte j holds q[j] low and q[j + 16] high."""
    b = x.reshape(-1, 32)
    extreme = b[np.arange(b.shape[0]), np.abs(b).argmax(axis=1)]
    d = extreme / np.float32(-8)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    q = np.minimum((b * inv[:, None] + np.float32(8.5)).astype(np.int8), 15).astype(np.uint8)
    out = np.empty((b.shape[0], 18), np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out


def encode(values_f16, ggml_type):
    """The bytes of an f16 array stored as ggml_type, quantized in chunks of rows."""
    if ggml_type == F16:
        return values_f16.tobytes()
    if ggml_type == F32:
        return values_f16.astype(np.float32).tobytes()
    quantize = quantize_q8_0 if ggml_type == Q8_0 else quantize_q4_0
    rows = values_f16.reshape(-1, values_f16.shape[-1])
    step = max(1, CHUNK_ROWS_ELEMENTS // rows.shape[1])
    return b"".join(quantize(rows[r:r + step].astype(np.float32)).tobytes() for r in range(0, rows.shape[0], step))


def nbytes(shape, ggml_type):
    block_bytes, block_elements = BLOCK[ggml_type]
    return int(np.prod(shape)) // block_elements * block_bytes


def pad(n, to=ALIGNMENT):
    return (to - n % to) % to


# --- GGUF header -------------------------------------------------------------------------------
GGUF_UINT32, GGUF_INT32, GGUF_FLOAT32, GGUF_STRING, GGUF_ARRAY = 4, 5, 6, 8, 9


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, kind, value):
    out = gguf_string(key) + struct.pack("<I", kind)
    if kind == GGUF_STRING:
        return out + gguf_string(value)
    if kind != GGUF_ARRAY:
        return out + struct.pack({GGUF_UINT32: "<I", GGUF_INT32: "<i", GGUF_FLOAT32: "<f"}[kind], value)
    item_kind, items = value
    out += struct.pack("<IQ", item_kind, len(items))
    if item_kind == GGUF_STRING:
        return out + b"".join(gguf_string(s) for s in items)
    return out + np.asarray(items, {GGUF_INT32: "<i4", GGUF_FLOAT32: "<f4"}[item_kind]).tobytes()


def dummy_vocabulary(size):
    """<unk>, <s>, </s>, the 256 byte tokens, the word start \u2581 and printable ASCII (so that
    text round-trips through the tokenizer, which node-llama-cpp checks and warns about), then
    unique filler pieces: a vocabulary llama.cpp's SPM loader accepts for a "llama" tokenizer
    (types: 1 normal, 2 unknown, 3 control, 6 byte)."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    tokens += ["\u2581"] + [chr(c) for c in range(33, 127)]
    tokens += [f"\u2581t{i}" for i in range(size - len(tokens))]
    types += [1] * (size - len(types))
    scores = [0.0] * 259 + [-float(i) for i in range(size - 259)]
    return tokens, scores, types


def gguf_metadata(c, file_type, quantized):
    tokens, scores, types = dummy_vocabulary(c["vocab_size"])
    kv = [
        ("general.architecture", GGUF_STRING, "llama"),
        ("general.name", GGUF_STRING, "kiln-bench TinyLlama-1.1B-shaped random"),
        ("general.file_type", GGUF_UINT32, file_type),
        ("llama.context_length", GGUF_UINT32, c["max_position_embeddings"]),
        ("llama.embedding_length", GGUF_UINT32, c["hidden_size"]),
        ("llama.block_count", GGUF_UINT32, c["num_hidden_layers"]),
        ("llama.feed_forward_length", GGUF_UINT32, c["intermediate_size"]),
        ("llama.rope.dimension_count", GGUF_UINT32, c["head_dim"]),
        ("llama.attention.head_count", GGUF_UINT32, c["num_attention_heads"]),
        ("llama.attention.head_count_kv", GGUF_UINT32, c["num_key_value_heads"]),
        ("llama.attention.layer_norm_rms_epsilon", GGUF_FLOAT32, c["rms_norm_eps"]),
        ("llama.rope.freq_base", GGUF_FLOAT32, c["rope_theta"]),
        ("llama.vocab_size", GGUF_UINT32, c["vocab_size"]),
        ("tokenizer.ggml.model", GGUF_STRING, "llama"),
        ("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, tokens)),
        ("tokenizer.ggml.scores", GGUF_ARRAY, (GGUF_FLOAT32, scores)),
        ("tokenizer.ggml.token_type", GGUF_ARRAY, (GGUF_INT32, types)),
        ("tokenizer.ggml.bos_token_id", GGUF_UINT32, c["bos_token_id"]),
        ("tokenizer.ggml.eos_token_id", GGUF_UINT32, c["eos_token_id"]),
        ("tokenizer.ggml.unknown_token_id", GGUF_UINT32, 0),
    ]
    if quantized:
        kv.append(("general.quantization_version", GGUF_UINT32, 2))
    return kv


def gguf_header(c, tensors, matrix_type, file_type):
    """The header up to the data section, and each tensor's ggml type."""
    kv = gguf_metadata(c, file_type, matrix_type != F16)
    types = [F32 if len(shape) == 1 else matrix_type for _, _, shape, _ in tensors]
    out = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(kv)) + b"".join(gguf_kv(*e) for e in kv)
    offset = 0
    for (_, name, shape, _), t in zip(tensors, types):
        out += gguf_string(name) + struct.pack("<I", len(shape))
        out += struct.pack(f"<{len(shape)}Q", *reversed(shape)) + struct.pack("<IQ", t, offset)
        offset += nbytes(shape, t) + pad(nbytes(shape, t))
    return out + bytes(pad(len(out))), types


def safetensors_header(tensors):
    entries, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, _, shape, _ in tensors:
        size = int(np.prod(shape)) * 2
        entries[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(entries).encode()
    text += b" " * pad(8 + len(text), 8)  # data starts 8-aligned, so Kiln maps f16 in place
    return struct.pack("<Q", len(text)) + text


def draw(rng, shape):
    if len(shape) == 1:
        return np.ones(shape, np.float16)
    return (rng.standard_normal(shape, dtype=np.float32) * WEIGHT_STD).astype(np.float16)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "/tmp/kiln-llm-bench"
    hf_dir = os.path.join(out_dir, "hf")
    os.makedirs(hf_dir, exist_ok=True)
    tensors = tensor_list(CONFIG)
    outputs = {"hf": os.path.join(hf_dir, "model.safetensors")}
    outputs.update({f: os.path.join(out_dir, f"model-{f}.gguf") for f in FORMATS})
    # Written under .partial names and renamed at the end: a present file is a whole one.
    files = {k: open(p + ".partial", "wb") for k, p in outputs.items()}
    files["hf"].write(safetensors_header(tensors))
    gguf_types = {}
    for f, (matrix_type, file_type) in FORMATS.items():
        header, gguf_types[f] = gguf_header(CONFIG, tensors, matrix_type, file_type)
        files[f].write(header)
    rng = np.random.default_rng(SEED)
    for i, (hf_name, _, shape, heads) in enumerate(tensors):
        w = draw(rng, shape)
        files["hf"].write(w.tobytes())
        gguf_w = permute_qk(w, heads) if heads else w
        for f in FORMATS:
            data = encode(gguf_w, gguf_types[f][i])
            files[f].write(data + bytes(pad(len(data))))
        print(f"\r{i + 1}/{len(tensors)} {hf_name}".ljust(60), end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for k, f in files.items():
        f.close()
        os.replace(outputs[k] + ".partial", outputs[k])
    with open(os.path.join(hf_dir, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    for p in outputs.values():
        print(f"{p}: {os.path.getsize(p) / 1e9:.2f} GB", file=sys.stderr)


if __name__ == "__main__":
    main()
