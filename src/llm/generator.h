// Text generation for one sequence: the prompt is prefilled over a KV cache (in chunks when
// long), then tokens are sampled and decoded one at a time. Each token's text goes through
// StreamingDecoder (whole UTF-8 characters) and StopMatcher (never a stop string, nor text that
// may still become one) to a callback as soon as it is settled, so a caller can print it at once.
//
// A Generator keeps its sequence between calls: a prompt that starts with everything the cache
// already holds (a chat's next turn over the previous turns) is prefilled from there on only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"
#include "kiln/llm_types.h"
#include "llm/kv_cache.h"
#include "llm/llama_model.h"
#include "llm/sampler.h"
#include "llm/tokenizer.h"

namespace kiln::llm {

struct GenerationOptions {
  SamplingParams sampling;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> eos_ids;           // generation ends at any of them, which is not emitted
  std::optional<int64_t> max_new_tokens;  // none: until EOS, a stop string or a full context
  bool skip_special_tokens = true;        // in the streamed text
  // When set and true, generation ends before the next token with StopReason::Cancelled; the
  // cache keeps what it holds. It may be set from on_text or from another thread.
  const std::atomic<bool>* cancel = nullptr;
};

class Generator {
 public:
  // `context`: the positions the cache holds, in (0, max_position_embeddings]; `prefill_chunk`:
  // the most prompt tokens one forward pass takes; `kv_dtype`: how the cache stores keys and
  // values; `trace`, when given, records every forward step (ForwardState::trace). Error(InvalidArgument)
  // naming the value otherwise. The model, tokenizer, pool and trace must outlive the generator.
  Generator(const LlamaForCausalLM& model, const Tokenizer& tokenizer, ThreadPool& pool, int64_t context,
            int64_t prefill_chunk = 512, kernels::KvDtype kv_dtype = kernels::KvDtype::Float32, Trace* trace = nullptr);

  int64_t context() const { return context_; }

  // Generates after `prompt`, passing the text to `on_text` piece by piece as it settles.
  // Error(InvalidArgument) for an empty prompt, one longer than the context, or invalid sampling
  // parameters; errors of the forward pass, the sampler and `on_text` propagate, after which the
  // next call starts from an empty cache.
  GenerationStats generate(std::span<const int32_t> prompt, const GenerationOptions& options,
                           const std::function<void(std::string_view)>& on_text);

 private:
  // Runs `tokens` through the model in chunks of at most prefill_chunk_, appending them to the
  // sequence; the logits of the last one are in state_.logits.
  void feed(std::span<const int32_t> tokens);
  void reset();

  const LlamaForCausalLM& model_;
  const Tokenizer& tokenizer_;
  ThreadPool& pool_;
  int64_t context_, prefill_chunk_;
  KvCache cache_;
  KvSequence sequence_;
  std::vector<int32_t> cached_;  // the tokens sequence_ holds, in order
  ForwardState state_;
};

}  // namespace kiln::llm
