"""SamplingParams with vLLM's field names and defaults, for the settings Kiln's sampler has
(docs/llm.md, Sampling). A vLLM field Kiln cannot honour may be passed only with the value that
asks for nothing; any other value raises kiln.NotImplemented naming the field."""

from kiln import _kiln
from kiln.errors import NotImplemented as KilnNotImplemented

# vLLM's fields that Kiln has no counterpart for, each with the value that leaves it off.
_NEUTRAL = {
    "best_of": None,
    "use_beam_search": False,
    "length_penalty": 1.0,
    "early_stopping": False,
    "logprobs": None,
    "prompt_logprobs": None,
    "min_tokens": 0,
    "include_stop_str_in_output": False,
    "spaces_between_special_tokens": True,
    "detokenize": True,
    "logits_processors": None,
    "truncate_prompt_tokens": None,
    "bad_words": None,
    "allowed_token_ids": None,
    "logit_bias": None,
    "guided_decoding": None,
    "output_kind": None,
}

# The fields Kiln's sampler takes as they are (kiln::llm::SamplingOverrides), the seed aside.
_SAMPLER_FIELDS = ("temperature", "top_k", "top_p", "min_p", "repetition_penalty", "presence_penalty",
                   "frequency_penalty", "penalty_last_n")


class SamplingParams:
    """How to sample one request. As in vLLM: temperature 0 is greedy; top_k 0 or -1 and top_p 1
    keep every token; max_tokens None generates until EOS, a stop string or a full context; seed
    None takes the next seed of the LLM's own generator (LLM(seed=...)), so that runs repeat but
    requests differ.

    Kiln's own: penalty_last_n, the history tokens (prompt and output, newest last) the
    repetition, presence and frequency penalties look at (-1: all of them), 64 by default as in
    llama.cpp; vLLM applies the repetition penalty to all of them and the other two to the
    output alone.
    """

    def __init__(self, n=1, temperature=1.0, top_p=1.0, top_k=0, min_p=0.0, seed=None, max_tokens=16,
                 stop=None, stop_token_ids=None, repetition_penalty=1.0, presence_penalty=0.0,
                 frequency_penalty=0.0, ignore_eos=False, skip_special_tokens=True, penalty_last_n=64,
                 **kwargs):
        for name, value in kwargs.items():
            if name not in _NEUTRAL:
                raise TypeError(f"SamplingParams got an unexpected keyword argument '{name}'")
            if value != _NEUTRAL[name]:
                raise KilnNotImplemented(f"SamplingParams.{name} = {value!r} is not supported by Kiln's sampler "
                                         f"(only {_NEUTRAL[name]!r})")
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be at least 1, got {n!r}")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens!r}")
        if seed is not None and (not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.n = n
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.top_k = 0 if top_k == -1 else int(top_k)
        self.min_p = float(min_p)
        self.seed = seed
        self.max_tokens = max_tokens
        self.stop = [stop] if isinstance(stop, str) else list(stop or [])
        self.stop_token_ids = [int(i) for i in (stop_token_ids or [])]
        self.repetition_penalty = float(repetition_penalty)
        self.presence_penalty = float(presence_penalty)
        self.frequency_penalty = float(frequency_penalty)
        self.ignore_eos = bool(ignore_eos)
        self.skip_special_tokens = bool(skip_special_tokens)
        self.penalty_last_n = int(penalty_last_n)
        if not all(isinstance(s, str) and s for s in self.stop):
            raise ValueError(f"stop must be a string or a list of non-empty strings, got {stop!r}")
        # Kiln's sampler checks the ranges and names the field (kiln.InvalidArgument, a ValueError).
        self._overrides(0).validate()

    def _overrides(self, seed):
        overrides = _kiln.SamplingOverrides()
        for name in _SAMPLER_FIELDS:
            setattr(overrides, name, getattr(self, name))
        overrides.seed = seed
        return overrides

    def _options(self, seed):
        """The request as kiln::llm::GenerateOptions, sampling with `seed`."""
        options = _kiln.GenerateOptions()
        options.sampling = self._overrides(seed)
        options.max_tokens = self.max_tokens
        options.stop = self.stop
        options.stop_token_ids = self.stop_token_ids
        options.ignore_eos = self.ignore_eos
        options.skip_special_tokens = self.skip_special_tokens
        return options

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"SamplingParams({fields})"
