"""The model's tokenizer (src/llm/tokenizer.h), with the method names of Hugging Face's."""


class Tokenizer:
    def __init__(self, engine):
        self._engine = engine

    @property
    def vocab_size(self):
        return self._engine.vocab_size

    @property
    def bos_token_id(self):
        return self._engine.bos_id

    @property
    def eos_token_id(self):
        return self._engine.eos_id

    def encode(self, text, add_special_tokens=True):
        """The token ids of `text`; with add_special_tokens, those the tokenizer frames a text with (BOS)."""
        return self._engine.encode(text, add_special_tokens)

    def decode(self, token_ids, skip_special_tokens=False):
        return self._engine.decode(list(token_ids), skip_special_tokens)

    def convert_tokens_to_ids(self, tokens):
        """The id of each token (None for a token the vocabulary lacks); one token gives one id."""
        if isinstance(tokens, str):
            return self._engine.token_to_id(tokens)
        return [self._engine.token_to_id(t) for t in tokens]

    def convert_ids_to_tokens(self, ids):
        if isinstance(ids, int):
            return self._engine.id_to_token(ids)
        return [self._engine.id_to_token(i) for i in ids]

    def __len__(self):
        return self.vocab_size

    def apply_chat_template(self, conversation, tokenize=True, add_generation_prompt=False):
        """The conversation through the model's chat template, as Hugging Face's method: the ids
        (the template writes the special tokens), or the text when tokenize is False."""
        text = self._engine.apply_chat_template(chat_pairs(conversation), add_generation_prompt)
        return self._engine.encode(text, False) if tokenize else text


def chat_pairs(conversation):
    """[{'role': ..., 'content': ...}] as the (role, content) pairs a chat template renders. A
    content given as OpenAI-style parts must be text parts, which are joined."""
    pairs = []
    for i, message in enumerate(conversation):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise TypeError(f"message {i} must be a dict with 'role' and 'content', got {message!r}")
        content = message["content"]
        if not isinstance(content, str):
            if not all(isinstance(p, dict) and p.get("type") == "text" for p in content):
                raise TypeError(f"message {i}: content must be a string or a list of text parts, got {content!r}")
            content = "".join(p["text"] for p in content)
        pairs.append((message["role"], content))
    return pairs
