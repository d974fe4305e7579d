"""kiln.llm.LLM: Kiln's LLM runtime (include/kiln/llm.h) in the shape of vLLM's LLM class."""

import itertools
import os
import queue
import random
import threading

from kiln import _kiln
from kiln.errors import NotImplemented as KilnNotImplemented
from kiln.llm.outputs import RequestOutput, completion_output
from kiln.llm.sampling_params import SamplingParams
from kiln.llm.tokenizer import Tokenizer, chat_pairs

# vLLM's max_tokens when a request sets none and generation_config.json has no limit.
_DEFAULT_MAX_TOKENS = 16


class LLM:
    """A Llama-family model: `model` is a Hugging Face directory, a GGUF file or a Kiln engine file.

    quant: None (the weights as stored), 'int8' or 'int4' (quantized at load; group: inputs per
    scale, 0 for each kind's default); kv_cache: 'f32' (default), 'f16' or 'int8'; threads: None
    for one per core; max_model_len: the positions a prompt and its completion may fill (None: the
    model's, at most 4096); cpu_level: 'scalar', 'avx2' or 'avx512' (None: the best this CPU has);
    seed: the generator of the seeds that requests without one sample with.

    Requests run one at a time on one KV cache, which a prompt extending the previous prompt and
    its completion (a chat's next turn) reuses. The model runs without the GIL.
    """

    def __init__(self, model, quant=None, group=0, kv_cache=None, threads=None, max_model_len=None,
                 cpu_level=None, seed=0, tokenizer=None, dtype="auto", trust_remote_code=False,
                 enable_profiling=False):
        model = os.fspath(model)
        if tokenizer is not None and os.fspath(tokenizer) != model:
            raise KilnNotImplemented(f"tokenizer = {tokenizer!r} is not supported by Kiln: the tokenizer is the "
                                     "model's own")
        if dtype != "auto":
            raise KilnNotImplemented(f"dtype = {dtype!r} is not supported by Kiln: weights compute in their stored "
                                     "format, or in quant's")
        options = _kiln.LoadOptions()
        options.quant = quant or "none"
        options.group = group
        options.kv_cache = kv_cache or "f32"
        options.threads = 0 if threads is None else threads
        options.context = max_model_len or 0
        options.cpu_level = cpu_level or ""
        options.enable_profiling = bool(enable_profiling)
        self._engine = _kiln.LLM(model, options)
        self._seeds = random.Random(seed)
        self._request_ids = itertools.count()
        self.tokenizer = Tokenizer(self._engine)

    def get_tokenizer(self):
        return self.tokenizer

    @property
    def weights(self):
        """How the linear layers compute: 'none' (as stored), 'int8' or 'int4'."""
        return self._engine.weights

    def end_profiling(self, path):
        """Writes the Chrome trace recorded since loading (enable_profiling=True: the load and every
        prefill and decode step by layer, docs/profiling.md) to `path` and stops recording; returns
        the path, or None when profiling was off or has ended."""
        path = os.fspath(path)
        return path if self._engine.end_profiling(path) else None

    def get_default_sampling_params(self):
        """What a request without SamplingParams samples with: generation_config.json's settings
        over Kiln's defaults, and its new-token limit (else vLLM's 16)."""
        return self._default_params(0)

    def _default_params(self, prompt_tokens):
        d = self._engine.default_sampling()
        return SamplingParams(temperature=d.temperature, top_p=d.top_p, top_k=d.top_k, min_p=d.min_p,
                              repetition_penalty=d.repetition_penalty, presence_penalty=d.presence_penalty,
                              frequency_penalty=d.frequency_penalty, penalty_last_n=d.penalty_last_n,
                              max_tokens=self._engine.default_max_tokens(prompt_tokens) or _DEFAULT_MAX_TOKENS)

    def generate(self, prompts, sampling_params=None, use_tqdm=True, lora_request=None):
        """One RequestOutput per prompt. A prompt is a string (encoded with the tokenizer's special
        tokens, BOS), {'prompt': text} or {'prompt_token_ids': [...]}; `prompts` is one or a list.
        sampling_params: one SamplingParams for all, or a list with one per prompt. use_tqdm is
        accepted and draws nothing."""
        if lora_request is not None:
            raise KilnNotImplemented("lora_request is not supported by Kiln's LLM API")
        requests = [self._prompt(p) for p in _as_list(prompts, (str, dict))]
        params = _per_prompt(sampling_params, len(requests))
        return [self._request(text, ids, p) for (text, ids), p in zip(requests, params)]

    def chat(self, messages, sampling_params=None, use_tqdm=True, lora_request=None, chat_template=None,
             add_generation_prompt=True, continue_final_message=False, tools=None, chat_template_kwargs=None):
        """Completes a conversation ([{'role': ..., 'content': ...}, ...]), or each of a list of
        them, through the model's chat template; one RequestOutput each, its prompt the rendered
        template."""
        for name, value, neutral in (("lora_request", lora_request, None), ("chat_template", chat_template, None),
                                     ("continue_final_message", continue_final_message, False),
                                     ("tools", tools, None), ("chat_template_kwargs", chat_template_kwargs, None)):
            if value != neutral:
                raise KilnNotImplemented(f"LLM.chat's {name} is not supported by Kiln: it renders the model's "
                                         "own template with messages and add_generation_prompt")
        conversations = [messages] if messages and isinstance(messages[0], dict) else list(messages)
        params = _per_prompt(sampling_params, len(conversations))
        outputs = []
        for conversation, p in zip(conversations, params):
            text = self._engine.apply_chat_template(chat_pairs(conversation), add_generation_prompt)
            outputs.append(self._request(text, self._engine.encode(text, False), p))
        return outputs

    def generate_stream(self, prompt, sampling_params=None):
        """Yields the completion of one prompt piece by piece as it is generated. The model runs
        on a worker thread without the GIL; closing the generator (or dropping it) stops the
        generation before its next token."""
        text, ids = self._prompt(prompt)
        params = sampling_params or self._default_params(len(ids))
        if params.n != 1:
            raise ValueError(f"generate_stream makes one completion, but n is {params.n}")
        return _stream(self._engine, ids, params._options(self._seed(params, 0)))

    def perplexity(self, text, batch_tokens=1024):
        """Perplexity of `text`, each non-empty line scored alone as [BOS] + its tokens, as
        `kiln perplexity` scores a file."""
        return self._engine.perplexity(text, batch_tokens).perplexity

    def _prompt(self, prompt):
        if isinstance(prompt, str):
            return prompt, self._engine.encode(prompt, True)
        if isinstance(prompt, dict) and "prompt_token_ids" in prompt:
            return prompt.get("prompt"), [int(i) for i in prompt["prompt_token_ids"]]
        if isinstance(prompt, dict) and "prompt" in prompt:
            return prompt["prompt"], self._engine.encode(prompt["prompt"], True)
        raise TypeError(f"a prompt is a str, {{'prompt': str}} or {{'prompt_token_ids': [int]}}, got {prompt!r}")

    def _seed(self, params, index):
        return params.seed + index if params.seed is not None else self._seeds.getrandbits(63)

    def _request(self, text, ids, params):
        params = params or self._default_params(len(ids))
        completions = []
        for index in range(params.n):
            completion = self._engine.generate(ids, params._options(self._seed(params, index)))
            completions.append(completion_output(index, completion, params, self._engine.decode))
        return RequestOutput(str(next(self._request_ids)), text, list(ids), completions)


def _as_list(value, single_types):
    return [value] if isinstance(value, single_types) else list(value)


def _per_prompt(sampling_params, count):
    if isinstance(sampling_params, (list, tuple)):
        if len(sampling_params) != count:
            raise ValueError(f"{len(sampling_params)} SamplingParams for {count} prompts: give one, or one per prompt")
        return list(sampling_params)
    return [sampling_params] * count


_END = object()


def _stream(engine, ids, options):
    pieces = queue.Queue()
    stop = threading.Event()

    def on_text(piece):
        if stop.is_set():
            return False
        pieces.put(piece)
        return True

    def work():
        try:
            engine.generate(ids, options, on_text)
            pieces.put(_END)
        except BaseException as error:  # handed to the consuming thread, which raises it
            pieces.put(error)

    worker = threading.Thread(target=work, name="kiln-generate-stream", daemon=True)
    worker.start()
    try:
        while (piece := pieces.get()) is not _END:
            if isinstance(piece, BaseException):
                raise piece
            yield piece
    finally:
        stop.set()
        worker.join()
