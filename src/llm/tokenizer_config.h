// tokenizer_config.json, the transformers-side settings saved beside a tokenizer: which tokens are
// BOS and EOS, and whether encoding adds them. Both tokenizer formats read it the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/model_files.h"

namespace kiln::llm {

// The ids put around every encoded text, and the BOS and EOS ids.
struct SpecialTokenFraming {
  std::vector<int32_t> prefix, suffix;
  std::optional<int32_t> bos, eos;
};

// What sets a tokenizer's framing once its vocabulary is read: `framing` arrives with the file's
// own rule (a SentencePiece model's BOS before the text; a tokenizer.json's post_processor), and
// `token_id` looks tokens up. A tokenizer file's rule is its tokenizer_config.json's; a GGUF's,
// its metadata's.
using FramingRule =
    std::function<void(const std::function<std::optional<int32_t>(std::string_view)>& token_id, SpecialTokenFraming& framing)>;
// The rule of the model's tokenizer_config.json, when it has one (none: the file's own rule
// stands): bos_token and eos_token (a string or an object with "content") replace the framing's
// BOS and EOS; when add_bos_token or add_eos_token is given, the framing becomes [BOS if
// add_bos_token] text [EOS if add_eos_token]. The rule throws Error(InvalidModel) naming the file
// and field for a malformed value or a token not in the vocabulary.
FramingRule tokenizer_config_rule(const ModelFiles& files);

}  // namespace kiln::llm
