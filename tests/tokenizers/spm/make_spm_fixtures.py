#!/usr/bin/python3
"""Trains the small SentencePiece BPE models of Kiln's tokenizer.model tests and writes the ids
SentencePiece itself gives for the test strings (goldens.json).

Needs Debian's sentencepiece (spm_train, spm_encode) and python3-sentencepiece, the same 0.1.97
library; only regenerating the fixtures needs them, the tests read the committed files.

  llama.model: set up as Llama 2's tokenizer.model is (BPE, byte fallback, identity normalizer,
    dummy prefix, extra whitespace kept, digits split), 1000 pieces, trained on models/kjv/heldout.txt
    with a few lines of other scripts, so that some multi-byte characters are pieces.
  plain.model: the other switches: no byte fallback (unknown characters are <unk>), extra
    whitespace removed, a user-defined symbol and an extra control symbol.

Run from anywhere: /usr/bin/python3 tests/tokenizers/spm/make_spm_fixtures.py
"""
import json
import os
import shutil
import subprocess
import tempfile

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

# Other scripts, repeated so that their characters pass the character coverage and form pieces.
EXTRA_LINES = [
    "Καὶ εἶπεν ὁ Θεός· γενηθήτω φῶς· καὶ ἐγένετο φῶς.",
    "И сказал Бог: да будет свет. И стал свет.",
    "café naïve façade résumé déjà vu",
] * 40

MODELS = {
    "llama": [
        "--model_type=bpe", "--vocab_size=1000", "--byte_fallback=true",
        "--normalization_rule_name=identity", "--remove_extra_whitespaces=false",
        "--add_dummy_prefix=true", "--split_digits=true", "--allow_whitespace_only_pieces=true",
        "--character_coverage=0.99995", "--max_sentencepiece_length=16",
    ],
    "plain": [
        "--model_type=bpe", "--vocab_size=400", "--byte_fallback=false",
        "--normalization_rule_name=identity", "--remove_extra_whitespaces=true",
        "--add_dummy_prefix=true", "--user_defined_symbols=<sep>", "--control_symbols=<ctl>",
        "--character_coverage=0.9995",
    ],
}

CASES = [
    "",
    "Hello world",
    "In the beginning God created the heaven and the earth.",
    "And God said, Let there be light: and there was light.",
    "a  b   c    d",
    " leading space",
    "   three leading spaces",
    "trailing space ",
    "trailing spaces   ",
    " ",
    "   ",
    "line one\nline two\n\nline four\n",
    "\n",
    "tab\tseparated\tvalues",
    "Numbers 12345 and 3.14159, 2024-06-01",
    "Καὶ εἶπεν ὁ Θεός",
    "И сказал Бог",
    "café naïve déjà",
    "日本語のテキスト",
    "中文和English混合",
    "😀 emoji 👍🏽 and 🇫🇷",
    "Ünïcödé ÀÉÎÕÜ ß ø å",
    "the ▁ marker ▁▁ itself",
    "unto<sep>them <sep> and",
    "punctuation!?.,;:'\"()[]{}<>/\\|@#$%^&*-_=+~`",
    "thethethethethethethethethethethethe",
    "LORD LORD LORD, the LORD God of Israel",
    "x",
    "\u00a0non-breaking\u00a0spaces\u2003em",
]


def train(name, flags, workdir):
    """Trains in `workdir` with relative names, which the model records (trainer_spec.input and
    model_prefix), so that the committed files do not depend on where they were made."""
    subprocess.run(["spm_train", "--input=corpus.txt", f"--model_prefix={name}", "--num_threads=1",
                    "--minloglevel=1", *flags], check=True, cwd=workdir)
    model = os.path.join(HERE, name + ".model")
    shutil.move(os.path.join(workdir, name + ".model"), model)
    return model


def spm_encode_ids(model, lines):
    """spm_encode's own ids for one-line cases, to check the Python binding's against."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("".join(line + "\n" for line in lines))
    try:
        out = subprocess.run(["spm_encode", f"--model={model}", "--output_format=id", f.name],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.remove(f.name)
    return [[int(t) for t in line.split()] for line in out.split("\n")[:-1]]


def to_json(goldens):
    """One line per case, so that a changed golden shows as one changed line."""
    def dump(v):
        return json.dumps(v, ensure_ascii=False)
    models = []
    for name, g in goldens.items():
        head = ", ".join(f"{dump(k)}: {dump(v)}" for k, v in g.items() if k != "cases")
        cases = ",\n    ".join(dump(c) for c in g["cases"])
        models.append(f'  {dump(name)}: {{{head}, "cases": [\n    {cases}\n  ]}}')
    return "{\n" + ",\n".join(models) + "\n}"


def main():
    with open(os.path.join(ROOT, "models", "kjv", "heldout.txt"), encoding="utf-8") as f:
        text = f.read()
    goldens = {}
    with tempfile.TemporaryDirectory() as workdir:
        with open(os.path.join(workdir, "corpus.txt"), "w", encoding="utf-8") as f:
            f.write(text + "\n".join(EXTRA_LINES) + "\n")
        for name, flags in MODELS.items():
            model = train(name, flags, workdir)
            sp = spm.SentencePieceProcessor(model_file=model)
            cases = [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t))} for t in CASES]
            one_line = [c for c in cases if "\n" not in c["text"] and c["text"].strip(" ") == c["text"] and c["text"]]
            for case, ids in zip(one_line, spm_encode_ids(model, [c["text"] for c in one_line])):
                assert ids == case["ids"], (name, case["text"], ids, case["ids"])
            goldens[name] = {"bos": sp.bos_id(), "eos": sp.eos_id(), "unk": sp.unk_id(),
                             "vocab_size": sp.get_piece_size(), "cases": cases}
    with open(os.path.join(HERE, "goldens.json"), "w", encoding="utf-8") as f:
        f.write(to_json(goldens) + "\n")


if __name__ == "__main__":
    main()
