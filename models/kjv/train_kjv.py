"""Train the small KJV Llama that Kiln ships as its default LLM, and save it as a Hugging Face directory.

Steps: the KJV from Debian's bible-kjv (kjv_corpus.py), every 50th verse held out (heldout.txt);
a 4096-token byte-level BPE trained on the other verses (train_tokenizer.py); a Llama with grouped-
query attention from scripts/llm/llama_reference.py trained on one CPU thread; the float16 weights
saved, read back at float32 and scored on the held-out verses (eval_perplexity.py); a few greedy
and sampled generations. Everything printed also goes to train_log.txt in the output directory.

Training sequences: the training verses, one per line ("Genesis 1:1 In the beginning ...\\n"), are
packed into one stream with <|endoftext|> before every chapter. A sequence is BOS followed by the
stream from the start of a randomly drawn verse, so every sequence begins as a held-out line is
scored: BOS, then a verse reference.

    /usr/bin/python3 models/kjv/train_kjv.py                  # the shipped model, ~25 minutes
    /usr/bin/python3 models/kjv/train_kjv.py --steps 20 --train-only --out /tmp/kjv-a   # a short run
"""
import argparse
import json
import math
import os
import pathlib
import sys
import time

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts" / "llm"))
import eval_perplexity  # noqa: E402
import kjv_corpus  # noqa: E402
import llama_reference  # noqa: E402
import train_tokenizer  # noqa: E402

SEED = 0
CONTEXT = 256
BATCH = 8
STEPS = 550
WARMUP = 40
PEAK_LR = 2e-3
FINAL_LR_FRACTION = 0.1
WEIGHT_DECAY = 0.1
LOG_EVERY = 10
MODEL = dict(hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=8,
             num_key_value_heads=2, head_dim=32, rms_norm_eps=1e-5, rope_theta=10000.0,
             tie_word_embeddings=True, max_position_embeddings=CONTEXT)
GENERATION = dict(do_sample=True, temperature=0.8, top_p=0.95)
PROMPTS = ["And God said", "Genesis 1:1", "Psalms 23:1", "John 3:16"]
NEW_TOKENS = 40
# Scoring in float32 runs on the reference BLAS; this many training verses keep it to a few minutes.
SEEN_VERSES = 200


class Log:
    def __init__(self, path):
        self.file = open(path, "w")

    def __call__(self, text=""):
        print(text, flush=True)
        self.file.write(text + "\n")
        self.file.flush()


def token_stream(tok, verses):
    """(ids, verse_starts): the packed training stream and where each verse begins in it."""
    ids, starts = [], []
    for chapter in kjv_corpus.chapters(verses):
        ids.append(train_tokenizer.EOT_ID)
        for v in chapter:
            starts.append(len(ids))
            ids.extend(tok.encode(v.line() + "\n"))
    return torch.tensor(ids), torch.tensor(starts)


def batch(stream, starts, generator):
    """Inputs [BOS] + stream[s : s+CONTEXT-1] and targets stream[s : s+CONTEXT] for drawn verses s."""
    s = starts[torch.randint(len(starts), (BATCH,), generator=generator)]
    rows = stream[s[:, None] + torch.arange(CONTEXT)[None, :]]
    bos = torch.full((BATCH, 1), train_tokenizer.EOT_ID)
    return torch.cat((bos, rows[:, :-1]), dim=1), rows


def learning_rate(step, steps):
    """Linear warm-up to PEAK_LR, then cosine decay to FINAL_LR_FRACTION of it at the last step."""
    if step < WARMUP:
        return PEAK_LR * (step + 1) / WARMUP
    progress = (step - WARMUP) / max(1, steps - 1 - WARMUP)
    return PEAK_LR * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5 * (1 + math.cos(math.pi * progress)))


def build_model(vocab_size):
    cfg = llama_reference.Config(vocab_size=vocab_size, bos_token_id=train_tokenizer.EOT_ID,
                                 eos_token_id=train_tokenizer.EOT_ID, **MODEL)
    model = llama_reference.LlamaForCausalLM(cfg)
    # Hugging Face's Llama initialisation; torch's default N(0, 1) embedding, tied to the head,
    # would start with logits far too large.
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
            torch.nn.init.normal_(module.weight, std=0.02)
    return model


def optimizer_for(model):
    """AdamW, decaying the matrices (embedding included) but not the norm gains."""
    params = list({id(p): p for p in model.parameters()}.values())
    decay = [p for p in params if p.dim() >= 2]
    keep = [p for p in params if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                              {"params": keep, "weight_decay": 0.0}], lr=PEAK_LR, betas=(0.9, 0.95))


def train(model, stream, starts, steps, log):
    generator = torch.Generator().manual_seed(SEED)
    opt = optimizer_for(model)
    losses, began = [], time.time()
    model.train()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, steps)
        x, y = batch(stream, starts, generator)
        # Debian's torch does float32 matrix products with the reference BLAS (under 1 GFLOP/s on
        # one thread) but bfloat16 ones with oneDNN (about 60): the weights, gradients and AdamW
        # state stay float32, only the products run in bfloat16.
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if (step + 1) % LOG_EVERY == 0 or step + 1 == steps:
            recent = losses[-LOG_EVERY:]
            elapsed = time.time() - began
            log(f"step {step + 1:5d}  loss {sum(recent) / len(recent):.4f}  last {losses[-1]:.6f}  "
                f"lr {learning_rate(step, steps):.2e}  {elapsed:7.1f} s  "
                f"{(step + 1) * BATCH * CONTEXT / elapsed:6.0f} tokens/s")
    return losses, time.time() - began


@torch.no_grad()
def sample(model, prompt_ids, new_tokens, generator):
    """Temperature and nucleus (top-p) sampling with GENERATION's settings, stopping at EOS."""
    ids = list(prompt_ids)
    for _ in range(new_tokens):
        logits = model(torch.tensor([ids]))[0, -1] / GENERATION["temperature"]
        probs, order = torch.softmax(logits, dim=-1).sort(descending=True)
        keep = probs.cumsum(0) - probs < GENERATION["top_p"]
        probs = probs * keep
        ids.append(int(order[torch.multinomial(probs / probs.sum(), 1, generator=generator)]))
        if ids[-1] == model.cfg.eos_token_id:
            break
    return ids[len(prompt_ids):]


def generations(model, tok, log):
    generator = torch.Generator().manual_seed(SEED)
    bos = model.cfg.bos_token_id
    for prompt in PROMPTS:
        ids = [bos] + tok.encode(prompt)
        log(f"greedy  | {prompt}{tok.decode(model.greedy(ids, NEW_TOKENS))!r}")
        log(f"sampled | {prompt}{tok.decode(sample(model, ids, NEW_TOKENS, generator))!r}")


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out", default=str(HERE), help="output directory (default: %(default)s)")
    parser.add_argument("--train-only", action="store_true",
                        help="stop after training, before saving (to check that a rerun repeats loss_curve.txt)")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = Log(out / "train_log.txt")

    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    # One thread keeps every float reduction in one order, so a rerun repeats the loss curve exactly.
    torch.set_num_threads(1)
    began = time.time()

    verses = kjv_corpus.read_verses()
    train_verses, heldout = kjv_corpus.split(verses)
    (out / "heldout.txt").write_text("".join(v.line() + "\n" for v in heldout))
    log(f"torch {torch.__version__}, one thread; bfloat16 products under autocast, float32 weights")
    log(f"corpus: {len(verses)} verses, {len(train_verses)} for training, {len(heldout)} held out")

    tokens, merges = train_tokenizer.train(v.line() + "\n" for v in train_verses)
    train_tokenizer.save(train_tokenizer.Tokenizer(tokens, merges), out)
    tok = train_tokenizer.load(out)
    corpus = "".join(v.line() + "\n" for v in verses)
    log(f"tokenizer: {tok.vocab_size} tokens, {len(merges)} merges; whole corpus "
        f"{train_tokenizer.self_check(tok, corpus)} tokens, decode(encode(text)) == text")

    stream, starts = token_stream(tok, train_verses)
    starts = starts[starts + CONTEXT <= len(stream)]
    log(f"training stream: {len(stream)} tokens, {len(starts)} verse starts")

    model = build_model(tok.vocab_size)
    parameters = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    log(f"model: {parameters} parameters, {json.dumps(MODEL)}")
    log(f"training: {args.steps} steps x {BATCH} x {CONTEXT} tokens, AdamW peak lr {PEAK_LR}, "
        f"warm-up {WARMUP}, cosine to {FINAL_LR_FRACTION} x peak, weight decay {WEIGHT_DECAY}, seed {SEED}")
    losses, seconds = train(model, stream, starts, args.steps, log)
    (out / "loss_curve.txt").write_text("".join(f"{loss!r}\n" for loss in losses))
    tail = losses[-LOG_EVERY * 5:]
    log(f"trained in {seconds:.0f} s; final train loss (mean of the last {len(tail)} steps) "
        f"{sum(tail) / len(tail):.4f}")
    if args.train_only:
        return

    llama_reference.save_hf(model, out, dtype=torch.float16)
    write_json(out / "generation_config.json", {"bos_token_id": train_tokenizer.EOT_ID,
                                                "eos_token_id": train_tokenizer.EOT_ID, **GENERATION})
    log(f"saved: model.safetensors {os.path.getsize(out / 'model.safetensors')} bytes (float16)")

    saved = eval_perplexity.load_model(out)
    ppl, count = eval_perplexity.perplexity(saved, tok, [v.line() for v in heldout])
    log(f"held-out perplexity (float16 weights, float32 compute): {ppl:.4f} over {count} tokens, "
        f"{len(heldout)} verses")
    # Training verses scored the same way: the gap to the held-out figure is what was memorised.
    seen = train_verses[25::len(train_verses) // SEEN_VERSES][:SEEN_VERSES]
    seen_ppl, seen_count = eval_perplexity.perplexity(saved, tok, [v.line() for v in seen])
    log(f"training-verse perplexity, same scoring: {seen_ppl:.4f} over {seen_count} tokens, {len(seen)} verses")
    generations(saved, tok, log)
    log(f"total {time.time() - began:.0f} s")


if __name__ == "__main__":
    main()
