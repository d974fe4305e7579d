"""Kiln's LLM runtime in the shape of vLLM's offline API (docs/python.md):

    from kiln.llm import LLM, SamplingParams
    llm = LLM("models/kjv")
    out = llm.generate(["Genesis 1:1"], SamplingParams(temperature=0, max_tokens=30))
    print(out[0].outputs[0].text)
"""

from kiln.llm.llm import LLM
from kiln.llm.outputs import CompletionOutput, RequestOutput
from kiln.llm.sampling_params import SamplingParams
from kiln.llm.tokenizer import Tokenizer

__all__ = ["LLM", "CompletionOutput", "RequestOutput", "SamplingParams", "Tokenizer"]
