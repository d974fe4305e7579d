"""A GPT-2-style byte-level BPE tokenizer for the KJV corpus: trainer, encoder and the Hugging Face files.

Text is pre-tokenized with GPT-2's regex, each piece turned into UTF-8 bytes, and the bytes into
GPT-2's printable characters (bytes_to_unicode), so every token of tokenizer.json is a string
without spaces and a merge can be written "a b".

Ids: byte b is token b (0..255), merge k creates token 256 + k unless its string already exists,
and `<|endoftext|>` is the last id (VOCAB_SIZE - 1), used as both BOS and EOS.

Python's `re` has no \\p{L} / \\p{N}, so encoding uses an ASCII form of the regex and refuses any
non-ASCII text; tokenizer.json carries GPT-2's exact regex, so a standard reader splits the same
way. check_regex_against_pcre2 confirms the two agree on a text, with PCRE2 in Unicode mode.

Run alone to train on the KJV training verses, write the files next to this script and check them:
    /usr/bin/python3 models/kjv/train_tokenizer.py
"""
import collections
import ctypes
import ctypes.util
import heapq
import json
import pathlib
import re
import sys

VOCAB_SIZE = 4096
EOT = "<|endoftext|>"
EOT_ID = VOCAB_SIZE - 1
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# For ASCII text \p{L} is [A-Za-z], \p{N} is [0-9] and \s (re.ASCII) is [ \t\n\r\f\v]: GPT-2's
# pattern with those classes spelled out.
ASCII_PATTERN = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""", re.ASCII)


def bytes_to_unicode():
    """GPT-2's map from each byte to a printable character: printable Latin-1 bytes map to
    themselves, the other 68 to U+0100 onwards, in byte order."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pretokenize(text):
    bad = next((i for i, ch in enumerate(text) if ord(ch) > 127), None)
    if bad is not None:
        raise ValueError(f"text position {bad}: {text[bad]!r} is not ASCII; this encoder's regex is "
                         "only GPT-2's for ASCII text")
    return ASCII_PATTERN.findall(text)


def token_string(raw):
    return "".join(BYTE_TO_CHAR[b] for b in raw)


def _pairs(word):
    return zip(word, word[1:])


def train(texts, vocab_size=VOCAB_SIZE):
    """Merges learnt from `texts` until the vocabulary (with EOT) has vocab_size tokens.

    Returns (tokens, merges): tokens[id] is the token's bytes; merges[rank] is a pair of ids.
    The most frequent pair is merged first; ties go to the smallest (left id, right id), so the
    result depends only on the texts.
    """
    counts = collections.Counter()
    for text in texts:
        counts.update(pretokenize(text))
    words = [list(piece.encode("ascii")) for piece in counts]
    freq = list(counts.values())

    pair_count = collections.Counter()
    pair_words = collections.defaultdict(set)
    for w, word in enumerate(words):
        for pair in _pairs(word):
            pair_count[pair] += freq[w]
            pair_words[pair].add(w)
    heap = [(-c, pair) for pair, c in pair_count.items()]
    heapq.heapify(heap)

    tokens = [bytes([b]) for b in range(256)]
    token_id = {t: i for i, t in enumerate(tokens)}
    merges = []
    while len(tokens) < vocab_size - 1 and heap:
        negative, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negative or negative == 0:
            continue  # stale entry: the count changed after it was pushed
        joined = tokens[pair[0]] + tokens[pair[1]]
        if joined not in token_id:
            token_id[joined] = len(tokens)
            tokens.append(joined)
        new = token_id[joined]
        merges.append(pair)
        touched = set()
        for w in list(pair_words[pair]):
            word = words[w]
            for p in _pairs(word):
                pair_count[p] -= freq[w]
                touched.add(p)
            words[w] = word = _merge(word, pair, new)
            for p in _pairs(word):
                pair_count[p] += freq[w]
                pair_words[p].add(w)
                touched.add(p)
        for p in touched:
            if pair_count[p] > 0:
                heapq.heappush(heap, (-pair_count[p], p))
            else:
                del pair_count[p]
                pair_words.pop(p, None)
    return tokens, merges


def _merge(word, pair, new):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


class Tokenizer:
    """Encodes by GPT-2's rule: within each pre-token, repeatedly merge the adjacent pair of lowest
    merge rank until no pair has a merge."""

    def __init__(self, tokens, merges):
        self.tokens = tokens
        self.token_id = {t: i for i, t in enumerate(tokens)}
        self.rank = {pair: r for r, pair in enumerate(merges)}
        self.merges = merges
        self._cache = {}

    def encode(self, text):
        ids = []
        for piece in pretokenize(text):
            cached = self._cache.get(piece)
            if cached is None:
                cached = self._cache[piece] = self._encode_piece(piece)
            ids.extend(cached)
        return ids

    def _encode_piece(self, piece):
        word = list(piece.encode("ascii"))
        while len(word) > 1:
            ranked = [(self.rank[p], p) for p in _pairs(word) if p in self.rank]
            if not ranked:
                break
            _, pair = min(ranked)
            word = _merge(word, pair, self.token_id[self.tokens[pair[0]] + self.tokens[pair[1]]])
        return word

    def decode(self, ids):
        return b"".join(EOT.encode() if i == EOT_ID else self.tokens[i] for i in ids).decode("utf-8")

    @property
    def vocab_size(self):
        return len(self.tokens) + 1


def tokenizer_json(tok):
    vocab = {token_string(t): i for i, t in enumerate(tok.tokens)}
    eot = {"id": EOT_ID, "content": EOT, "single_word": False, "lstrip": False, "rstrip": False,
           "normalized": False, "special": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [eot],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": GPT2_PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ]},
        # add_bos_token: a standard reader puts <|endoftext|> before every encoded text.
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": EOT, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": EOT, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": EOT, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {EOT: {"id": EOT, "ids": [EOT_ID], "tokens": [EOT]}},
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab,
            "merges": [f"{token_string(tok.tokens[a])} {token_string(tok.tokens[b])}" for a, b in tok.merges],
        },
    }


def tokenizer_config_json():
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": {str(EOT_ID): {"content": EOT, "lstrip": False, "normalized": False,
                                               "rstrip": False, "single_word": False, "special": True}},
        "bos_token": EOT,
        "eos_token": EOT,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 256,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def save(tok, directory):
    directory = pathlib.Path(directory)
    _write_json(directory / "tokenizer.json", tokenizer_json(tok))
    _write_json(directory / "tokenizer_config.json", tokenizer_config_json())


def load(directory):
    """The tokenizer from a tokenizer.json this module wrote (or one with the same layout)."""
    path = pathlib.Path(directory) / "tokenizer.json"
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    split = spec["pre_tokenizer"]["pretokenizers"][0]
    if split["pattern"]["Regex"] != GPT2_PATTERN:
        raise ValueError(f"{path}: pre_tokenizer Split regex is not GPT-2's, this encoder cannot apply it")
    model = spec["model"]
    by_id = sorted((i, s) for s, i in model["vocab"].items())
    if [i for i, _ in by_id] != list(range(len(by_id))):
        raise ValueError(f"{path}: model.vocab ids are not 0..{len(by_id) - 1}")
    tokens = [bytes(CHAR_TO_BYTE[c] for c in s) for _, s in by_id]
    ids = {s: i for i, s in by_id}
    merges = []
    for rank, line in enumerate(model["merges"]):
        left, right = line.split(" ")
        if left + right not in ids:
            raise ValueError(f"{path}: merge {rank} '{line}' makes a token missing from model.vocab")
        merges.append((ids[left], ids[right]))
    if spec["added_tokens"][0]["content"] != EOT or spec["added_tokens"][0]["id"] != len(tokens):
        raise ValueError(f"{path}: added_tokens[0] is not {EOT} with id {len(tokens)}")
    return Tokenizer(tokens, merges)


def _pcre2():
    name = ctypes.util.find_library("pcre2-8")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.pcre2_compile_8.restype = ctypes.c_void_p
    lib.pcre2_compile_8.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
                                    ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t),
                                    ctypes.c_void_p]
    lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
    lib.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.pcre2_match_8.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                  ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
    lib.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(ctypes.c_size_t)
    lib.pcre2_get_ovector_pointer_8.argtypes = [ctypes.c_void_p]
    lib.pcre2_jit_compile_8.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    return lib


def check_regex_against_pcre2(text):
    """True when GPT-2's regex, in PCRE2 with Unicode properties, splits `text` as pretokenize does;
    None when libpcre2-8 is not installed."""
    lib = _pcre2()
    if lib is None:
        return None
    utf, ucp, no_utf_check, jit_complete = 0x00080000, 0x00020000, 0x40000000, 1
    err, offset = ctypes.c_int(), ctypes.c_size_t()
    pattern = GPT2_PATTERN.encode()
    code = lib.pcre2_compile_8(pattern, len(pattern), utf | ucp, ctypes.byref(err), ctypes.byref(offset), None)
    if not code:
        raise ValueError(f"PCRE2 rejects GPT-2's regex at offset {offset.value} (error {err.value})")
    lib.pcre2_jit_compile_8(code, jit_complete)
    match = lib.pcre2_match_data_create_from_pattern_8(code, None)
    subject = text.encode("utf-8")
    pieces, start = [], 0
    while start < len(subject):
        # PCRE2 validates the whole subject's UTF-8 on each call unless told it was checked already.
        options = no_utf_check if start else 0
        if lib.pcre2_match_8(code, subject, len(subject), start, options, match, None) < 0:
            break
        ov = lib.pcre2_get_ovector_pointer_8(match)
        pieces.append(subject[ov[0]:ov[1]].decode("utf-8"))
        start = ov[1]
    return pieces == pretokenize(text)


def self_check(tok, text):
    """Fails unless the tokenizer reproduces `text` exactly; returns the number of tokens."""
    ids = tok.encode(text)
    if tok.decode(ids) != text:
        first = next(i for i, (a, b) in enumerate(zip(tok.decode(ids), text)) if a != b)
        raise AssertionError(f"decode(encode(text)) differs from the text at character {first}")
    return len(ids)


def main():
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    import kjv_corpus
    verses = kjv_corpus.read_verses()
    train_verses, _ = kjv_corpus.split(verses)
    directory = pathlib.Path(__file__).parent
    tokens, merges = train(v.line() + "\n" for v in train_verses)
    save(Tokenizer(tokens, merges), directory)
    tok = load(directory)
    if tok.tokens != tokens or tok.merges != merges:
        raise AssertionError("tokenizer.json does not load back to the trained tokenizer")
    corpus = "".join(v.line() + "\n" for v in verses)
    print(f"{tok.vocab_size} tokens ({len(merges)} merges); whole corpus: {len(corpus)} characters, "
          f"{self_check(tok, corpus)} tokens, decode(encode(text)) == text")
    agrees = check_regex_against_pcre2(corpus)
    print("GPT-2 regex in PCRE2 (UTF, UCP) splits the corpus "
          + {True: "identically", False: "DIFFERENTLY", None: "(not checked: no libpcre2-8)"}[agrees])
    if agrees is False:
        raise AssertionError("the ASCII regex and GPT-2's regex split the corpus differently")


if __name__ == "__main__":
    main()
