"""vLLM's RequestOutput and CompletionOutput, the results of LLM.generate and LLM.chat."""

# Kiln's stop reasons (kiln::llm::StopReason) as vLLM's finish reasons.
_FINISH_REASONS = {
    "eos": "stop",
    "stop string": "stop",
    "max tokens": "length",
    "context full": "length",
    "cancelled": "abort",
}


class CompletionOutput:
    """One completion: its text (without the prompt or a stop string), the sampled token ids (an
    EOS or stop token that ended it included), why it ended ('stop' or 'length'), and stop_reason:
    the stop string or stop token id that ended it, None otherwise."""

    def __init__(self, index, text, token_ids, finish_reason, stop_reason):
        self.index = index
        self.text = text
        self.token_ids = token_ids
        self.finish_reason = finish_reason
        self.stop_reason = stop_reason
        self.cumulative_logprob = None
        self.logprobs = None

    def finished(self):
        return self.finish_reason is not None

    def __repr__(self):
        return (f"CompletionOutput(index={self.index}, text={self.text!r}, token_ids={self.token_ids}, "
                f"finish_reason={self.finish_reason!r}, stop_reason={self.stop_reason!r})")


class RequestOutput:
    """One prompt's completions (`n` of them, SamplingParams.n)."""

    def __init__(self, request_id, prompt, prompt_token_ids, outputs):
        self.request_id = request_id
        self.prompt = prompt
        self.prompt_token_ids = prompt_token_ids
        self.prompt_logprobs = None
        self.outputs = outputs
        self.finished = True

    def __repr__(self):
        return (f"RequestOutput(request_id={self.request_id!r}, prompt={self.prompt!r}, "
                f"prompt_token_ids={self.prompt_token_ids}, outputs={self.outputs})")


def completion_output(index, completion, params, decode):
    """A CompletionOutput from kiln::llm::Completion, naming what stopped it as vLLM does: the
    stop token id, or the stop string that the generated text went on with (the shortest, since
    generation stops where a stop string first ends)."""
    stop_reason = None
    if completion.stop_reason == "eos" and completion.token_ids and completion.token_ids[-1] in params.stop_token_ids:
        stop_reason = completion.token_ids[-1]
    elif completion.stop_reason == "stop string":
        full = decode(completion.token_ids, params.skip_special_tokens)
        found = [s for s in params.stop if full.startswith(s, len(completion.text))]
        stop_reason = min(found, key=len) if found else None
    return CompletionOutput(index, completion.text, list(completion.token_ids),
                            _FINISH_REASONS[completion.stop_reason], stop_reason)
