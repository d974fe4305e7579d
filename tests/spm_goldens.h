// The SentencePiece goldens of tests/tokenizers/spm (goldens.json, from SentencePiece 0.1.97 on the
// fixture models), checked against any tokenizer built from one of those models: a tokenizer.model
// or the same pieces as GGUF metadata.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/read_file.h"
#include "llm/tokenizer.h"

namespace kiln::llm {

inline const std::string kSpmFixtures = KILN_SOURCE_DIR "/tests/tokenizers/spm";

// `t` against the goldens of fixture `name`: vocabulary size, BOS and EOS, then each case's ids,
// decoded text, and streamed text with the default BOS framing.
inline void expect_spm_goldens(const Tokenizer& t, const std::string& name) {
  const nlohmann::json g = nlohmann::json::parse(read_file(kSpmFixtures + "/goldens.json")).at(name);
  EXPECT_EQ(t.vocab_size(), g.at("vocab_size").get<int32_t>());
  EXPECT_EQ(t.bos_id(), g.at("bos").get<int32_t>());
  EXPECT_EQ(t.eos_id(), g.at("eos").get<int32_t>());
  ASSERT_GE(g.at("cases").size(), 25u);
  for (const nlohmann::json& c : g.at("cases")) {
    const std::string text = c.at("text");
    const std::vector<int32_t> expected = c.at("ids");
    EXPECT_EQ(t.encode(text, false), expected) << name << ": '" << text << "'";
    EXPECT_EQ(t.decode(expected, true), c.at("decoded").get<std::string>()) << name << ": '" << text << "'";
    // Streamed text is decoded text, and BOS (the default framing) is skipped as special.
    const std::vector<int32_t> framed = t.encode(text, true);
    ASSERT_FALSE(framed.empty());
    EXPECT_EQ(framed.front(), *t.bos_id());
    StreamingDecoder stream(t);
    std::string streamed;
    for (int32_t id : framed) streamed += stream.push(id);
    streamed += stream.finish();
    EXPECT_EQ(streamed, c.at("decoded").get<std::string>()) << name << ": '" << text << "'";
  }
}

}  // namespace kiln::llm
