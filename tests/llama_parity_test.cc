// The Llama forward pass against the PyTorch reference (scripts/llm/llama_reference.py): tiny
// random checkpoints made by scripts/llm/make_parity_fixtures.py, covering MHA, GQA, MQA with wide
// heads, tied and separate heads, Llama's attention bias, Qwen2's QKV bias and llama3 RoPE
// scaling. Logits at every prompt position must match within 1e-4 and greedy continuations
// exactly, at every CPU level, however the prompt is split and the cache is paged. With the KV
// cache in f16 or int8 the logits must stay within each dtype's measured error of the reference,
// and the greedy continuation must be the reference's (int8: its first two thirds).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "core/read_file.h"
#include "level_sweep.h"
#include "llm/llama_loader.h"

namespace kiln::llm {
namespace {

using kernels::KvDtype;

const std::string kFixtures = std::string(KILN_SOURCE_DIR) + "/tests/llm_fixtures";
const std::vector<std::string> kCases = {"llama_mha",       "llama_gqa_tied", "llama_mqa_wide_heads",
                                         "llama_attention_bias", "qwen2_qkv_bias", "llama3_rope_scaling"};

struct Expected {
  std::vector<int32_t> prompt, greedy;
  Tensor logits;  // [prompt, vocab]
};

Expected read_expected(const std::string& dir) {
  const auto json = nlohmann::json::parse(read_file(dir + "/expected.json"));
  return {json["prompt"].get<std::vector<int32_t>>(), json["greedy"].get<std::vector<int32_t>>(),
          read_npy(dir + "/logits.npy")};
}

int32_t argmax(const float* logits, int64_t n) { return static_cast<int32_t>(std::max_element(logits, logits + n) - logits); }

// Runs `prompt` through a fresh sequence in pieces of `chunk` tokens and returns every row's logits.
std::vector<float> prompt_logits(const LlamaForCausalLM& model, KvCache& cache, KvSequence& sequence,
                                 const std::vector<int32_t>& prompt, size_t chunk, ThreadPool& pool) {
  ForwardState state;
  std::vector<float> all;
  for (size_t begin = 0; begin < prompt.size(); begin += chunk) {
    const std::vector<int32_t> piece(prompt.begin() + static_cast<std::ptrdiff_t>(begin),
                                     prompt.begin() + static_cast<std::ptrdiff_t>(std::min(prompt.size(), begin + chunk)));
    const SequenceChunk batch[] = {{&sequence, piece, true}};
    model.forward(batch, cache, state, pool);
    all.insert(all.end(), state.logits.begin(), state.logits.end());
  }
  return all;
}

double worst_logit_error(const std::vector<float>& actual, const Tensor& expected) {
  EXPECT_EQ(static_cast<int64_t>(actual.size()), expected.numel());
  double worst = 0;
  for (int64_t i = 0; i < std::min(expected.numel(), static_cast<int64_t>(actual.size())); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(actual[static_cast<size_t>(i)]) - expected.data<float>()[i]));
  return worst;
}

void expect_logits_near(const std::vector<float>& actual, const Tensor& expected, double tolerance) {
  EXPECT_LE(worst_logit_error(actual, expected), tolerance);
}

// Decodes the reference's greedy continuation of its prompt one token at a time.
std::vector<int32_t> greedy_continuation(const LlamaForCausalLM& model, const Expected& expected, KvDtype dtype) {
  ThreadPool pool(1);
  KvCache cache(model.kv_cache_shape(16, 8, dtype));
  KvSequence sequence;
  ForwardState state;
  std::vector<int32_t> next = expected.prompt;
  std::vector<int32_t> generated;
  while (generated.size() < expected.greedy.size()) {
    const SequenceChunk batch[] = {{&sequence, next, false}};
    model.forward(batch, cache, state, pool);
    EXPECT_EQ(state.logit_rows, 1);
    generated.push_back(argmax(state.logits.data(), model.config().vocab_size));
    next = {generated.back()};
  }
  return generated;
}

class LlamaParity : public ::testing::TestWithParam<std::tuple<std::string, CpuLevel>> {
 protected:
  std::string dir() const { return kFixtures + "/" + std::get<0>(GetParam()); }
  CpuLevel level() const { return std::get<1>(GetParam()); }
};

TEST_P(LlamaParity, PromptLogitsMatchTheReferenceHoweverThePromptIsChunkedAndPaged) {
  const Expected expected = read_expected(dir());
  const auto model = load_llama(dir(), {.level = level()});
  ThreadPool pool(2);
  for (const auto& [chunk, block_size] : std::vector<std::pair<size_t, int64_t>>{{100, 64}, {7, 4}, {1, 1}, {3, 16}}) {
    SCOPED_TRACE(::testing::Message() << "chunks of " << chunk << ", blocks of " << block_size);
    KvCache cache(model->kv_cache_shape(64, block_size));
    // A sequence grown and released first leaves the free list out of address order.
    KvSequence scrap, sequence;
    cache.grow(scrap, 2 * block_size + 1);
    KvSequence keep;
    cache.grow(keep, block_size);
    cache.release(scrap);
    expect_logits_near(prompt_logits(*model, cache, sequence, expected.prompt, chunk, pool), expected.logits, 1e-4);
  }
}

TEST_P(LlamaParity, GreedyDecodeStepByStepContinuesAsTheReference) {
  const Expected expected = read_expected(dir());
  const auto model = load_llama(dir(), {.level = level()});
  EXPECT_EQ(greedy_continuation(*model, expected, KvDtype::Float32), expected.greedy);
}

TEST_P(LlamaParity, ABatchOfSequencesGivesEachItsOwnLogits) {
  const Expected expected = read_expected(dir());
  const auto model = load_llama(dir(), {.level = level()});
  ThreadPool pool(3);
  KvCache cache(model->kv_cache_shape(32, 4));
  // Sequence a takes the prompt in one step while b, started earlier, takes its second half:
  // the batch mixes a prefill with a continuation, and their blocks interleave in the pool.
  KvSequence a, b;
  ForwardState state;
  const size_t half = expected.prompt.size() / 2;
  const std::vector<int32_t> first(expected.prompt.begin(), expected.prompt.begin() + static_cast<std::ptrdiff_t>(half));
  const std::vector<int32_t> second(expected.prompt.begin() + static_cast<std::ptrdiff_t>(half), expected.prompt.end());
  const SequenceChunk start[] = {{&b, first, false}};
  model->forward(start, cache, state, pool);
  const SequenceChunk batch[] = {{&a, expected.prompt, true}, {&b, second, true}};
  model->forward(batch, cache, state, pool);
  const int64_t vocab = model->config().vocab_size;
  ASSERT_EQ(state.logit_rows, static_cast<int64_t>(expected.prompt.size() + second.size()));
  expect_logits_near({state.logits.begin(), state.logits.begin() + static_cast<std::ptrdiff_t>(expected.prompt.size()) * vocab},
                     expected.logits, 1e-4);
  const float* b_rows = state.logits.data() + expected.prompt.size() * static_cast<size_t>(vocab);
  const float* reference_rows = expected.logits.data<float>() + half * static_cast<size_t>(vocab);
  for (size_t i = 0; i < second.size() * static_cast<size_t>(vocab); ++i) ASSERT_NEAR(b_rows[i], reference_rows[i], 1e-4) << i;
}

// Weight-only quantization at load. Decode steps round x to int8 per block of 32 for the integer
// kernels; on AVX-512 prefill runs the same packed kernel (and matches decode as float prefill
// does), while the other levels multiply float x by the dequantized weights, which decode must
// stay close to. The fixtures' random weights (std 0.3 over 32 inputs) make these little models
// very sensitive to weight and activation error, so the distances to PyTorch's float32 logits
// (std 1.8) are large; the bounds are a little above the worst measured over the fixtures (int8
// per channel: 0.48 to the reference with x rounded in prefill too, 0.52 decode to float prefill;
// int4 in groups of 32: 5.9 and 0.57). The accuracy that matters is measured on the trained model
// (docs/llm.md, kiln perplexity).
TEST_P(LlamaParity, QuantizedWeightsDecodeAsTheyPrefillAndStayNearTheReference) {
  const Expected expected = read_expected(dir());
  struct Case {
    const char* name;
    nn::WeightQuant quant;
    double to_reference, decode_to_prefill;
  };
  for (const Case& c : {Case{"int8", {nn::WeightQuant::Int8, 0}, 0.55, 0.6},
                        Case{"int4", {nn::WeightQuant::Int4, 32}, 6.5, 0.7}}) {
    SCOPED_TRACE(c.name);
    const auto model = load_llama(dir(), {.level = level(), .quant = c.quant});
    ThreadPool pool(2);
    std::vector<std::vector<float>> logits;
    for (const size_t chunk : {expected.prompt.size(), size_t{1}}) {
      KvCache cache(model->kv_cache_shape(16, 8));
      KvSequence sequence;
      logits.push_back(prompt_logits(*model, cache, sequence, expected.prompt, chunk, pool));
    }
    expect_logits_near(logits[0], expected.logits, c.to_reference);
    expect_logits_near(logits[1], Tensor::from_vector<float>(expected.logits.shape(), logits[0]),
                       level() == CpuLevel::Avx512 ? 1e-4 : c.decode_to_prefill);
  }
}

// Module::to(WeightQuant) is loading with PrepareOptions::quant, and to(Float) undoes it exactly.
TEST_P(LlamaParity, ToQuantizedWeightsIsLoadingThemQuantized) {
  const Expected expected = read_expected(dir());
  ThreadPool pool(2);
  const auto logits_of = [&](const LlamaForCausalLM& model) {
    KvCache cache(model.kv_cache_shape(16, 8));
    KvSequence sequence;
    return prompt_logits(model, cache, sequence, expected.prompt, expected.prompt.size(), pool);
  };
  const auto model = load_llama(dir(), {.level = level()});
  const std::vector<float> float_logits = logits_of(*model);
  for (const nn::WeightQuant quant : {nn::WeightQuant{nn::WeightQuant::Int8, 0}, nn::WeightQuant{nn::WeightQuant::Int4, 32}}) {
    model->to(quant);
    const std::vector<float> quantized = logits_of(*model);
    EXPECT_EQ(quantized, logits_of(*load_llama(dir(), {.level = level(), .quant = quant})));
    EXPECT_NE(quantized, float_logits);
  }
  model->to(nn::WeightQuant{});
  EXPECT_EQ(logits_of(*model), float_logits);
}

TEST(LlamaForward, RejectsWhatItCannotRunWithoutGrowingAnySequence) {
  const auto model = load_llama(kFixtures + "/llama_mha", {});
  ThreadPool pool(1);
  KvCache cache(model->kv_cache_shape(2, 4));
  KvSequence a, b;
  ForwardState state;
  const SequenceChunk too_long[] = {{&a, std::vector<int32_t>(5, 1), false}, {&b, std::vector<int32_t>(4, 1), false}};
  try {
    model->forward(too_long, cache, state, pool);
    FAIL() << "expected the cache to be full";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Runtime);
    EXPECT_NE(std::string(e.what()).find("KV cache full: the batch needs 3 more blocks, 2 of 2 are free"), std::string::npos) << e.what();
  }
  EXPECT_EQ(a.length(), 0);
  EXPECT_EQ(cache.free_blocks(), 2);
  const SequenceChunk twice[] = {{&a, {1}, false}, {&a, {2}, false}};
  EXPECT_THROW(model->forward(twice, cache, state, pool), Error);
  const SequenceChunk bad_token[] = {{&a, {96}, false}};
  try {
    model->forward(bad_token, cache, state, pool);
    FAIL() << "expected a bad token id error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token id 96 at position 0 is outside the vocabulary of 96"), std::string::npos) << e.what();
  }
}

class LlamaParityLossyKv : public ::testing::TestWithParam<std::tuple<std::string, CpuLevel, KvDtype>> {
 protected:
  std::string dir() const { return kFixtures + "/" + std::get<0>(GetParam()); }
  CpuLevel level() const { return std::get<1>(GetParam()); }
  KvDtype dtype() const { return std::get<2>(GetParam()); }
};

// The fixtures' logits have a standard deviation of about 1.8. The largest error over all
// fixtures, levels and pagings was measured at 1.08e-2 with f16 (llama_gqa_tied) and 0.238 with
// int8 (qwen2_qkv_bias; these heads of 8 to 16 values are a coarse case for one scale per row).
TEST_P(LlamaParityLossyKv, PromptLogitsStayNearTheReference) {
  const Expected expected = read_expected(dir());
  const auto model = load_llama(dir(), {.level = level()});
  ThreadPool pool(2);
  for (const auto& [chunk, block_size] : std::vector<std::pair<size_t, int64_t>>{{100, 64}, {7, 4}, {1, 1}}) {
    SCOPED_TRACE(::testing::Message() << "chunks of " << chunk << ", blocks of " << block_size);
    KvCache cache(model->kv_cache_shape(64, block_size, dtype()));
    KvSequence sequence;
    expect_logits_near(prompt_logits(*model, cache, sequence, expected.prompt, chunk, pool), expected.logits,
                       dtype() == KvDtype::Float16 ? 1.5e-2 : 0.3);
  }
}

// Measured: f16 continues every fixture exactly; int8 all but llama_mha, whose 12th token, a
// near tie, differs.
TEST_P(LlamaParityLossyKv, GreedyDecodeContinuesAsTheReference) {
  const Expected expected = read_expected(dir());
  const auto model = load_llama(dir(), {.level = level()});
  std::vector<int32_t> generated = greedy_continuation(*model, expected, dtype());
  std::vector<int32_t> reference = expected.greedy;
  if (dtype() == KvDtype::Int8) {
    generated.resize(2 * generated.size() / 3);
    reference.resize(generated.size());
  }
  EXPECT_EQ(generated, reference);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LlamaParityLossyKv,
                         ::testing::Combine(::testing::ValuesIn(kCases), ::testing::ValuesIn(testing::runnable_cpu_levels()),
                                            ::testing::Values(KvDtype::Float16, KvDtype::Int8)),
                         [](const auto& param_info) {
                           return std::get<0>(param_info.param) + "_" + cpu_level_name(std::get<1>(param_info.param)) +
                                  "_" + kv_dtype_name(std::get<2>(param_info.param));
                         });

INSTANTIATE_TEST_SUITE_P(Fixtures, LlamaParity,
                         ::testing::Combine(::testing::ValuesIn(kCases), ::testing::ValuesIn(testing::runnable_cpu_levels())),
                         [](const auto& param_info) {
                           return std::get<0>(param_info.param) + "_" + cpu_level_name(std::get<1>(param_info.param));
                         });

}  // namespace
}  // namespace kiln::llm
