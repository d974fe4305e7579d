// `kiln bench-llm MODEL`: prompt processing and generation speed of an LLM, as llama-bench
// measures them. ppN runs N random prompt tokens through a fresh sequence in one batch; tgN
// decodes N tokens one at a time from an empty sequence. Each test is repeated and the median
// tokens/s reported, as a table or, with --json, one JSON line per test. --kv-cache picks the KV
// cache's storage (kernels/cpu/paged_kv.h), which decode at long context spends its time reading.
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

#include "bench_stats.h"
#include "commands.h"
#include "core/cpu_features.h"
#include "llm/load_options.h"
#include "llm_model_flags.h"

namespace kiln::cli {
namespace {

struct BenchLlmArgs {
  std::string model;
  int prompt_tokens = 512;
  int gen_tokens = 128;
  std::vector<int> threads = {1};
  int reps = 3;
  llm::LoadOptions load;
  bool json = false;
};

struct Test {
  std::string name;  // pp512, tg128
  int tokens;
  bool prompt;
};

// Seconds for one repetition of `test` on a fresh sequence.
double run_once(const llm::LlamaForCausalLM& model, const Test& test, kernels::KvDtype kv_dtype, ThreadPool& pool,
                std::mt19937& rng) {
  llm::KvCache cache(model.kv_cache_shape((test.tokens + 15) / 16, 16, kv_dtype));
  llm::KvSequence sequence;
  llm::ForwardState state;
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(model.config().vocab_size - 1));
  std::vector<int32_t> tokens(static_cast<size_t>(test.prompt ? test.tokens : 1));
  const auto start = Clock::now();
  for (int step = 0; step < (test.prompt ? 1 : test.tokens); ++step) {
    for (int32_t& t : tokens) t = token(rng);
    const llm::SequenceChunk chunk[] = {{&sequence, tokens, false}};
    model.forward(chunk, cache, state, pool);
  }
  return ms_since(start) / 1000.0;
}

void bench_llm(const BenchLlmArgs& args) {
  const CpuLevel level = llm::prepare_options(args.load, args.model).level;
  const auto load_start = Clock::now();
  const auto model = load_llm(args.model, args.load);
  const kernels::KvDtype kv_dtype = llm::kv_dtype(args.load);
  const double load_ms = ms_since(load_start);
  std::vector<Test> tests;
  if (args.prompt_tokens > 0) tests.push_back({"pp" + std::to_string(args.prompt_tokens), args.prompt_tokens, true});
  if (args.gen_tokens > 0) tests.push_back({"tg" + std::to_string(args.gen_tokens), args.gen_tokens, false});
  const double params_b = static_cast<double>(model->parameter_count()) / 1e9;
  if (!args.json)
    std::cout << "model: " << args.model << " (" << std::fixed << std::setprecision(2) << params_b
              << " B parameters, weights " << llm::nn::weight_quant_name(model->prepared_for().quant.kind) << ", KV cache " << args.load.kv_cache << ", loaded in "
              << std::setprecision(0) << load_ms
              << " ms, cpu level " << cpu_level_name(level) << ")\n| test | threads | tokens/s | reps |\n| --- | --: | --: | --: |\n";
  std::mt19937 rng(1234);
  for (const int threads : args.threads) {
    ThreadPool pool(threads);
    for (const Test& test : tests) {
      // Warm-up: first touches of weights and scratch.
      run_once(*model, {test.name, std::min(test.tokens, 16), test.prompt}, kv_dtype, pool, rng);
      std::vector<double> rates;
      for (int r = 0; r < args.reps; ++r) rates.push_back(test.tokens / run_once(*model, test, kv_dtype, pool, rng));
      const Summary s = summarize(rates);
      if (args.json)
        std::cout << "{\"engine\": \"kiln\", \"model\": " << json_quote(args.model) << ", \"test\": \"" << test.name
                  << "\", \"threads\": " << threads << ", \"tokens_per_s\": " << json_number(s.median)
                  << ", \"min_tokens_per_s\": " << json_number(s.min) << ", \"max_tokens_per_s\": "
                  << json_number(s.max) << ", \"reps\": " << args.reps << ", \"quant\": \""
                  << llm::nn::weight_quant_name(model->prepared_for().quant.kind)
                  << "\", \"kv_cache\": \"" << args.load.kv_cache << "\", \"cpu_level\": \"" << cpu_level_name(level)
                  << "\", \"load_ms\": " << json_number(load_ms) << "}" << std::endl;
      else
        std::cout << "| " << test.name << " | " << threads << " | " << std::setprecision(2) << s.median << " | "
                  << args.reps << " |" << std::endl;
    }
  }
}

}  // namespace

void add_bench_llm_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench-llm", "Prompt-processing and generation tokens/s of an LLM (like llama-bench)");
  auto args = std::make_shared<BenchLlmArgs>();
  cmd->add_option("model", args->model, "Hugging Face model directory (config.json, *.safetensors) or GGUF file")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("-p,--prompt-tokens", args->prompt_tokens, "prompt tokens of the pp test (0: skip it)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-n,--gen-tokens", args->gen_tokens, "generated tokens of the tg test (0: skip it)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-t,--threads", args->threads, "thread counts to test, e.g. 1,2")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("-r,--reps", args->reps, "repetitions of each test (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  add_llm_weight_flags(*cmd, args->load);
  cmd->add_option("--kv-cache", args->load.kv_cache, "KV cache storage: f32, f16 (half), int8 (one scale per row)")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "f16", "int8"}));
  cmd->add_flag("--json", args->json, "one JSON line per test: engine, model, test, threads, tokens_per_s, ...");
  cmd->callback([args] { bench_llm(*args); });
}

}  // namespace kiln::cli
