"""kiln.llm on the shipped KJV Llama (models/kjv): vLLM-shaped generate, chat, streaming, the
tokenizer and perplexity, with the values the CLI gives (tests/CMakeLists.txt)."""

import json
import os
import threading
import time

import pytest

import kiln
from kiln.llm import LLM, SamplingParams

GREEDY_30 = (" And the LORD said unto Moses, I will give thee out of the LORD, and I will give thee.\n"
             "Genesis 1:6 And I will")


@pytest.fixture(scope="module")
def llm(kjv_dir):
    return LLM(kjv_dir, threads=1)


def greedy(max_tokens=30, **fields):
    return SamplingParams(temperature=0, max_tokens=max_tokens, **fields)


def test_greedy_generation_is_the_cli_verse(llm):
    (out,) = llm.generate("Genesis 1:1", greedy())
    assert out.prompt == "Genesis 1:1"
    assert out.prompt_token_ids == llm.tokenizer.encode("Genesis 1:1")
    assert out.prompt_token_ids[0] == llm.tokenizer.bos_token_id
    (completion,) = out.outputs
    assert completion.text == GREEDY_30
    assert len(completion.token_ids) == 30
    assert llm.tokenizer.decode(completion.token_ids, skip_special_tokens=True) == GREEDY_30
    assert (completion.finish_reason, completion.stop_reason, completion.index) == ("length", None, 0)


def test_a_list_of_prompts_gives_one_output_each_in_order(llm):
    outs = llm.generate(["Genesis 1:1", {"prompt": "Exodus 3:14"}, {"prompt_token_ids": llm.tokenizer.encode("Genesis 1:1")}],
                        greedy(12))
    assert [o.prompt for o in outs] == ["Genesis 1:1", "Exodus 3:14", None]
    assert outs[0].outputs[0].text == outs[2].outputs[0].text
    assert GREEDY_30.startswith(outs[0].outputs[0].text)
    assert len({o.request_id for o in outs}) == 3
    per_prompt = llm.generate(["Genesis 1:1", "Genesis 1:1"], [greedy(5), greedy(8)])
    assert [len(o.outputs[0].token_ids) for o in per_prompt] == [5, 8]


def test_a_stop_string_ends_the_text_before_it(llm):
    (out,) = llm.generate("Genesis 1:1", greedy(40, stop=["zzz", " of the"]))
    completion = out.outputs[0]
    assert completion.text == " And the LORD said unto Moses, I will give thee out"
    assert (completion.finish_reason, completion.stop_reason) == ("stop", " of the")
    assert llm.tokenizer.decode(completion.token_ids).startswith(completion.text + " of the")


def test_a_stop_token_ends_generation_and_is_in_the_ids_not_the_text(llm):
    full = llm.generate("Genesis 1:1", greedy(30))[0].outputs[0]
    stop_id = full.token_ids[5]
    completion = llm.generate("Genesis 1:1", greedy(30, stop_token_ids=[stop_id]))[0].outputs[0]
    assert completion.token_ids == full.token_ids[:6]
    assert completion.text == llm.tokenizer.decode(full.token_ids[:5])
    assert (completion.finish_reason, completion.stop_reason) == ("stop", stop_id)


def test_a_seed_repeats_a_sample_and_requests_without_one_differ(llm):
    sample = SamplingParams(temperature=1.0, top_k=50, seed=11, max_tokens=40)
    first = llm.generate("Psalms 23:1", sample)[0].outputs[0]
    assert llm.generate("Psalms 23:1", sample)[0].outputs[0].token_ids == first.token_ids
    unseeded = SamplingParams(temperature=1.0, max_tokens=40)
    a, b = (llm.generate("Psalms 23:1", unseeded)[0].outputs[0].token_ids for _ in range(2))
    assert a != b


def test_n_completions_are_distinct_samples(llm):
    (out,) = llm.generate("Psalms 23:1", SamplingParams(n=3, temperature=1.0, seed=5, max_tokens=30))
    assert [c.index for c in out.outputs] == [0, 1, 2]
    assert len({tuple(c.token_ids) for c in out.outputs}) == 3


def test_without_sampling_params_the_models_defaults_apply(llm):
    defaults = llm.get_default_sampling_params()
    assert defaults.max_tokens == 16 and defaults.top_k == 0 and defaults.n == 1
    (out,) = llm.generate("Genesis 1:1")
    assert len(out.outputs[0].token_ids) == defaults.max_tokens


def test_streaming_yields_the_generated_text_piece_by_piece(llm):
    pieces = list(llm.generate_stream("Genesis 1:1", greedy()))
    assert len(pieces) > 10 and all(pieces)
    assert "".join(pieces) == GREEDY_30


class SlowEngine:
    """The LLM's engine with every text piece after the third delayed 5 ms, so that a generation
    to the full context would take over a second; records what each generate returned."""

    def __init__(self, engine):
        self.engine, self.completions = engine, []

    def generate(self, ids, options, on_text=None):
        pieces = 0

        def slowly(piece):
            nonlocal pieces
            pieces += 1
            if pieces > 3:
                time.sleep(0.005)
            return on_text(piece)

        self.completions.append(self.engine.generate(ids, options, slowly if on_text else None))
        return self.completions[-1]

    def __getattr__(self, name):
        return getattr(self.engine, name)


def test_closing_a_stream_stops_its_generation(kjv_dir, monkeypatch):
    llm = LLM(kjv_dir, threads=1)
    engine = SlowEngine(llm._engine)
    monkeypatch.setattr(llm, "_engine", engine)
    stream = llm.generate_stream("Genesis 1:1", greedy(max_tokens=None, ignore_eos=True))
    first = "".join(next(stream) for _ in range(3))
    stream.close()
    completion = engine.completions[0]
    assert completion.stop_reason == "cancelled"
    assert len(completion.token_ids) < 100, f"{len(completion.token_ids)} tokens generated before the close took"
    assert completion.text.startswith(first) and GREEDY_30.startswith(first)
    assert llm.generate("Genesis 1:1", greedy())[0].outputs[0].text == GREEDY_30


def test_generation_runs_without_the_gil(llm):
    spans, ticks = [], []

    def run():
        start = time.perf_counter()
        llm.generate("Genesis 1:1", greedy(max_tokens=None, ignore_eos=True))
        spans.append((start, time.perf_counter()))

    runner = threading.Thread(target=run)
    runner.start()
    while runner.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    runner.join()
    ((start, end),) = spans
    inner = [t for t in ticks if start + 0.2 * (end - start) < t < end - 0.2 * (end - start)]
    assert len(inner) >= 5, f"{len(inner)} ticks during the middle of a {end - start:.3f} s generation"


def test_chat_renders_the_template_and_completes_the_assistant_turn(kjv_chat_dir):
    chat_llm = LLM(kjv_chat_dir, threads=1)
    messages = [{"role": "user", "content": "Genesis 1:1"}]
    (out,) = chat_llm.chat(messages, greedy(40, stop="\n"))
    assert out.prompt == chat_llm.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert out.prompt_token_ids == chat_llm.tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    assert out.outputs[0].text == GREEDY_30.split("\n")[0]
    both = chat_llm.chat([messages, [{"role": "user", "content": [{"type": "text", "text": "Genesis 1:1"}]}]],
                         greedy(10))
    assert both[0].outputs[0].text == both[1].outputs[0].text


def test_chat_without_a_template_names_the_file(llm):
    with pytest.raises(kiln.InvalidModel, match="tokenizer_config.json: has no chat_template"):
        llm.chat([{"role": "user", "content": "Genesis 1:1"}])
    with pytest.raises(kiln.NotImplemented, match="tools"):
        llm.chat([{"role": "user", "content": "hi"}], tools=[{"type": "function"}])
    with pytest.raises(TypeError, match="message 0 must be a dict with 'role' and 'content'"):
        llm.chat([{"text": "hi"}])


def test_perplexity_of_the_held_out_verses_is_the_clis(llm, kjv_dir):
    with open(f"{kjv_dir}/heldout.txt", encoding="utf-8") as f:
        text = f.read()
    assert 47.78 < llm.perplexity(text) < 47.79


def test_the_tokenizer_round_trips_and_knows_its_tokens(llm):
    tokenizer = llm.get_tokenizer()
    ids = tokenizer.encode("In the beginning God created the heaven and the earth.")
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.encode("In the beginning", add_special_tokens=False) == ids[1:1 + len(tokenizer.encode("In the beginning", add_special_tokens=False))]
    assert tokenizer.decode(ids, skip_special_tokens=True) == "In the beginning God created the heaven and the earth."
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert tokenizer.convert_tokens_to_ids(tokens) == ids
    assert len(tokenizer) == tokenizer.vocab_size > max(ids)


def test_quantized_weights_load_and_score_close_to_float(kjv_dir):
    quantized = LLM(kjv_dir, quant="int8", kv_cache="f16", threads=1, max_model_len=256)
    with open(f"{kjv_dir}/heldout.txt", encoding="utf-8") as f:
        lines = f.read().splitlines()[:50]
    float_ppl = LLM(kjv_dir, threads=1).perplexity("\n".join(lines))
    assert abs(quantized.perplexity("\n".join(lines)) - float_ppl) < 0.01 * float_ppl


@pytest.mark.parametrize("fields, error, message", [
    ({"top_p": 1.5}, ValueError, "top_p"),
    ({"temperature": -1}, kiln.InvalidArgument, "temperature"),
    ({"max_tokens": 0}, ValueError, "max_tokens must be at least 1"),
    ({"n": 0}, ValueError, "n must be at least 1"),
    ({"stop": [""]}, ValueError, "stop must be"),
    ({"logprobs": 5}, NotImplementedError, "SamplingParams.logprobs = 5 is not supported"),
    ({"min_tokens": 3}, kiln.NotImplemented, "min_tokens"),
    ({"colour": "red"}, TypeError, "unexpected keyword argument 'colour'"),
])
def test_bad_sampling_params_are_refused_naming_the_field(fields, error, message):
    with pytest.raises(error, match=message):
        SamplingParams(**fields)


def test_vllm_fields_left_at_their_neutral_values_are_accepted():
    params = SamplingParams(logprobs=None, min_tokens=0, detokenize=True, top_k=-1, stop="\n")
    assert (params.top_k, params.stop) == (0, ["\n"])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"quant": "int3"}, ValueError, "quant must be none, int8 or int4, got 'int3'"),
    ({"kv_cache": "q4"}, kiln.InvalidArgument, "KV cache dtype 'q4' is not one of f32, f16, int8"),
    ({"max_model_len": 1 << 20}, kiln.InvalidArgument, "max_position_embeddings"),
    ({"dtype": "float16"}, kiln.NotImplemented, "dtype"),
])
def test_bad_load_options_are_refused_naming_the_option(kjv_dir, kwargs, error, message):
    with pytest.raises(error, match=message):
        LLM(kjv_dir, **kwargs)


def test_a_missing_model_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        LLM(str(tmp_path / "no_model"))


def test_bad_requests_are_refused(llm):
    with pytest.raises(ValueError, match="2 SamplingParams for 1 prompts"):
        llm.generate(["Genesis 1:1"], [greedy(), greedy()])
    with pytest.raises(kiln.InvalidArgument, match="stop token id 99999 is outside the vocabulary"):
        llm.generate("Genesis 1:1", greedy(stop_token_ids=[99999]))
    with pytest.raises(TypeError, match="a prompt is a str"):
        llm.generate([3])
    with pytest.raises(kiln.InvalidArgument, match="the prompt has no tokens"):
        llm.generate({"prompt_token_ids": []})


def test_an_engine_built_from_the_model_generates_its_verse(kjv_dir, tmp_path):
    """An LLM engine (kiln build MODEL_DIR --quant int8) loads as built: the int8 weights, the
    tokenizer and the greedy verse come from the .kiln file alone."""
    import subprocess
    engine = tmp_path / "kjv_int8.kiln"
    kiln_cli = os.path.join(os.environ["KILN_BUILD_DIR"], "kiln")
    subprocess.run([kiln_cli, "build", kjv_dir, "--quant", "int8", "-o", str(engine)], check=True, capture_output=True)
    from_engine = LLM(engine, threads=1)
    assert from_engine.weights == "int8"
    from_dir = LLM(kjv_dir, quant="int8", threads=1)
    (a,) = from_engine.generate("Genesis 1:1", greedy(20))
    (b,) = from_dir.generate("Genesis 1:1", greedy(20))
    assert a.outputs[0].token_ids == b.outputs[0].token_ids
    with pytest.raises(ValueError, match="was built for .*weights int8 per output channel, not .*int4"):
        LLM(engine, quant="int4")


def test_profiling_records_the_load_and_every_step_by_layer(kjv_dir, tmp_path):
    profiled = LLM(kjv_dir, threads=1, enable_profiling=True)
    profiled.generate("Genesis 1:1", greedy(5))
    path = tmp_path / "trace.json"
    assert profiled.end_profiling(path) == str(path)
    with open(path, encoding="utf-8") as f:
        events = json.load(f)
    steps = [e["name"] for e in events if e["cat"] == "Session" and e["name"] in ("prefill", "decode")]
    assert steps == ["prefill"] + ["decode"] * 4
    layers = {e["name"] for e in events if e["cat"] == "Node"}
    assert {"model.embed_tokens", "model.layers.0.self_attn", "model.layers.3.mlp", "lm_head"} <= layers
    assert any(e["name"] == "model_loading" for e in events)
    assert profiled.end_profiling(tmp_path / "again.json") is None
    assert LLM(kjv_dir, threads=1).end_profiling(tmp_path / "off.json") is None
