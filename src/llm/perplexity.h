// Perplexity of a text, scored as models/kjv/eval_perplexity.py scores it: each non-empty line is
// its own sequence, [BOS] + encode(line) with no newline and no special tokens of the tokenizer's;
// every token of the line is predicted (the BOS is context only), and
// perplexity = exp(total negative log-likelihood / tokens predicted), natural log.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"
#include "kiln/llm_types.h"
#include "llm/llama_model.h"
#include "llm/tokenizer.h"

namespace kiln::llm {

// The non-empty lines of `text`, split where Python's str.splitlines splits (\n, \r\n, \r, \v,
// \f, \x1c, \x1d, \x1e, U+0085, U+2028, U+2029), so that both score the same lines.
std::vector<std::string> nonempty_lines(std::string_view text);

// Scores `lines` (none of them empty). Lines are batched into forward passes of about
// `batch_tokens` tokens, which changes nothing but speed. Error(InvalidArgument) naming the line
// (counted from 1) when one is empty or its tokens with BOS exceed max_position_embeddings, and
// when there are no lines.
PerplexityResult score_lines(const LlamaForCausalLM& model, const Tokenizer& tokenizer,
                             std::span<const std::string> lines, int32_t bos_id, ThreadPool& pool,
                             int64_t batch_tokens = 1024);

}  // namespace kiln::llm
