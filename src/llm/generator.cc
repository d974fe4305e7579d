#include "llm/generator.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "kiln/error.h"
#include "llm/stop_matcher.h"

namespace kiln::llm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

KvCacheShape cache_shape(const LlamaForCausalLM& model, int64_t context, int64_t prefill_chunk, kernels::KvDtype kv_dtype) {
  const int64_t limit = model.config().max_position_embeddings;
  if (context <= 0 || context > limit)
    throw Error(ErrorCode::InvalidArgument, "Generator: a context of " + std::to_string(context) +
                                                " positions is outside (0, " + std::to_string(limit) +
                                                "], the model's max_position_embeddings");
  if (prefill_chunk <= 0)
    throw Error(ErrorCode::InvalidArgument,
                "Generator: prefill chunk of " + std::to_string(prefill_chunk) + " tokens, it must be positive");
  KvCacheShape shape = model.kv_cache_shape(0, 16, kv_dtype);
  shape.blocks = (context + shape.block_size - 1) / shape.block_size;
  return shape;
}

}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::Eos: return "eos";
    case StopReason::StopString: return "stop string";
    case StopReason::MaxTokens: return "max tokens";
    case StopReason::ContextFull: return "context full";
    case StopReason::Cancelled: return "cancelled";
  }
  return "unknown";
}

Generator::Generator(const LlamaForCausalLM& model, const Tokenizer& tokenizer, ThreadPool& pool, int64_t context,
                     int64_t prefill_chunk, kernels::KvDtype kv_dtype, Trace* trace)
    : model_(model),
      tokenizer_(tokenizer),
      pool_(pool),
      context_(context),
      prefill_chunk_(prefill_chunk),
      cache_(cache_shape(model, context, prefill_chunk, kv_dtype)) {
  state_.trace = trace;
}

void Generator::feed(std::span<const int32_t> tokens) {
  for (size_t begin = 0; begin < tokens.size(); begin += static_cast<size_t>(prefill_chunk_)) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(prefill_chunk_));
    const SequenceChunk chunk[] = {{&sequence_, {tokens.begin() + begin, tokens.begin() + end}, false}};
    model_.forward(chunk, cache_, state_, pool_);
    cached_.insert(cached_.end(), tokens.begin() + begin, tokens.begin() + end);
  }
}

void Generator::reset() {
  cache_.release(sequence_);
  cached_.clear();
}

GenerationStats Generator::generate(std::span<const int32_t> prompt, const GenerationOptions& options,
                                    const std::function<void(std::string_view)>& on_text) {
  const auto prompt_size = static_cast<int64_t>(prompt.size());
  if (prompt.empty())
    throw Error(ErrorCode::InvalidArgument, "generate: the prompt has no tokens (a model needs at least a BOS)");
  if (prompt_size > context_)
    throw Error(ErrorCode::InvalidArgument, "generate: the prompt's " + std::to_string(prompt_size) +
                                                " tokens do not fit the context of " + std::to_string(context_));
  Sampler sampler(options.sampling);
  StreamingDecoder decoder(tokenizer_, options.skip_special_tokens);
  StopMatcher stops(options.stop_strings);
  GenerationStats stats;
  stats.prompt_tokens = prompt_size;
  try {
    // The cache is reused only when it holds a proper prefix of the prompt: it cannot be cut back,
    // and the last prompt token must run to give the logits of the first new one.
    const auto reused = static_cast<size_t>(
        std::mismatch(cached_.begin(), cached_.end(), prompt.begin(), prompt.end()).first - cached_.begin());
    if (reused < cached_.size() || reused == prompt.size()) reset();
    const size_t cached = cached_.size();
    const auto prefill_start = Clock::now();
    feed(prompt.subspan(cached));
    stats.prefilled_tokens = prompt_size - static_cast<int64_t>(cached);
    stats.prefill_seconds = seconds_since(prefill_start);

    const auto decode_start = Clock::now();
    std::vector<int32_t> history(prompt.begin(), prompt.end());
    auto emit = [&](const std::string& text) {
      const StopPush pushed = stops.push(text);
      if (!pushed.text.empty()) on_text(pushed.text);
      return pushed.stopped;
    };
    // A sampled token runs only when another is wanted after it, so the last one never does.
    stats.stop_reason = StopReason::MaxTokens;
    int32_t id = -1;
    for (const int64_t limit = options.max_new_tokens.value_or(INT64_MAX); stats.generated_tokens < limit;) {
      if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
        stats.stop_reason = StopReason::Cancelled;
        break;
      }
      if (stats.generated_tokens > 0) {
        if (sequence_.length() >= context_) {
          stats.stop_reason = StopReason::ContextFull;
          break;
        }
        feed({&id, 1});
      }
      id = sampler.sample({state_.logits.data(), static_cast<size_t>(model_.config().vocab_size)}, history);
      ++stats.generated_tokens;
      stats.token_ids.push_back(id);
      history.push_back(id);
      if (std::find(options.eos_ids.begin(), options.eos_ids.end(), id) != options.eos_ids.end()) {
        stats.stop_reason = StopReason::Eos;
        break;
      }
      if (emit(decoder.push(id))) {
        stats.stop_reason = StopReason::StopString;
        break;
      }
    }
    if (!stops.stopped() && emit(decoder.finish())) stats.stop_reason = StopReason::StopString;
    if (const std::string held = stops.flush(); !held.empty()) on_text(held);
    stats.decode_seconds = seconds_since(decode_start);
  } catch (...) {
    reset();
    throw;
  }
  return stats;
}

}  // namespace kiln::llm
