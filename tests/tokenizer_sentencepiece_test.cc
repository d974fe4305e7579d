// tokenizer.model files through libsentencepiece. No npm package ships one, so a tiny BPE model
// with byte fallback is trained at test time (a few hundred sentences, well under a second), and
// Kiln's per-token decoding is checked against the library's own DecodeIds.
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "kiln/error.h"
#include "llm/tokenizer.h"

namespace kiln::llm {
namespace {

namespace fs = std::filesystem;

class Sentences : public sentencepiece::SentenceIterator {
 public:
  explicit Sentences(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  bool done() const override { return next_ >= lines_.size(); }
  void Next() override { ++next_; }
  const std::string& value() const override { return lines_[next_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::vector<std::string> lines_;
  size_t next_ = 0;
};

// A directory holding the trained tokenizer.model, and `config` as tokenizer_config.json if given.
fs::path trained_model(const std::string& name, const std::string& config = "") {
  std::vector<std::string> lines;
  const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "hello", "world",
                         "tokenizer", "streaming", "text", "models", "Kiln", "café", "naïve", "日本語", "テキスト"};
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i) {
    std::string line;
    for (int w = 0; w < 8; ++w) line += std::string(w ? " " : "") + words[rng() % std::size(words)];
    lines.push_back(line);
  }
  Sentences sentences(lines);
  std::string model;
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      {{"model_type", "bpe"}, {"vocab_size", "400"}, {"byte_fallback", "true"}, {"character_coverage", "0.9995"},
       {"minloglevel", "2"}, {"num_threads", "1"}},
      &sentences, &model);
  EXPECT_TRUE(status.ok()) << status.ToString();
  const fs::path dir = fs::temp_directory_path() / ("kiln_spm_" + name);
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.model", std::ios::binary) << model;
  if (!config.empty()) std::ofstream(dir / "tokenizer_config.json") << config;
  return dir;
}

TEST(SentencePieceTokenizer, EncodesAsTheLibraryAndDecodesAsItsDecodeIds) {
  const fs::path dir = trained_model("plain");
  const std::unique_ptr<Tokenizer> t = Tokenizer::load(dir.string());
  sentencepiece::SentencePieceProcessor reference;
  ASSERT_TRUE(reference.Load((dir / "tokenizer.model").string()).ok());
  ASSERT_EQ(t->bos_id(), 1);
  ASSERT_EQ(t->eos_id(), 2);
  EXPECT_EQ(t->vocab_size(), reference.GetPieceSize());
  EXPECT_TRUE(t->is_special(1));
  EXPECT_FALSE(t->is_special(t->vocab_size() - 1));
  EXPECT_EQ(t->token_to_id("<0x41>"), reference.PieceToId("<0x41>"));
  EXPECT_EQ(t->token_to_id("no such piece"), std::nullopt);
  EXPECT_EQ(t->id_to_token(1), "<s>");
  EXPECT_THROW(t->id_to_token(t->vocab_size()), Error);

  // Unseen characters (Ω, emoji) go through byte fallback; leading and repeated spaces.
  for (const std::string text : {"hello world", " the lazy dog", "Ωmega 🦊 fox", "日本語のテキスト", "a  b", ""}) {
    std::vector<int> expected;
    ASSERT_TRUE(reference.Encode(text, &expected).ok());
    const std::vector<int32_t> ids = t->encode(text, false);
    EXPECT_EQ(ids, std::vector<int32_t>(expected.begin(), expected.end())) << text;
    std::vector<int32_t> with_bos = ids;
    with_bos.insert(with_bos.begin(), 1);
    EXPECT_EQ(t->encode(text, true), with_bos);
    EXPECT_EQ(t->decode(ids), reference.DecodeIds(expected)) << text;
    EXPECT_EQ(t->decode(with_bos), reference.DecodeIds(std::vector<int>(with_bos.begin(), with_bos.end()))) << text;
    StreamingDecoder stream(*t);
    std::string streamed;
    for (int32_t id : with_bos) streamed += stream.push(id);
    EXPECT_EQ(streamed + stream.finish(), t->decode(with_bos, true)) << text;
  }
  // Any sequence of ids decodes as the library does, pieces cut mid-character included, except
  // that the library writes U+FFFD for each byte of an ill-formed sequence and Kiln one for each
  // maximal ill-formed subsequence (Unicode's recommendation): runs of U+FFFD are compared as one.
  const auto collapse = [](std::string s) {
    for (size_t at; (at = s.find("\xEF\xBF\xBD\xEF\xBF\xBD")) != std::string::npos;) s.erase(at, 3);
    return s;
  };
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<int> ids(rng() % 8);
    for (int& id : ids) id = static_cast<int>(rng() % static_cast<unsigned>(t->vocab_size()));
    EXPECT_EQ(collapse(t->decode(std::vector<int32_t>(ids.begin(), ids.end()))), collapse(reference.DecodeIds(ids)))
        << "trial " << trial;
  }
  fs::remove_all(dir);
}

TEST(SentencePieceTokenizer, TokenizerConfigDecidesBosAndEos) {
  const fs::path dir = trained_model("config", R"({"add_bos_token": false, "add_eos_token": true, "eos_token": {"content": "</s>"}})");
  const std::unique_ptr<Tokenizer> t = Tokenizer::load((dir / "tokenizer.model").string());
  const std::vector<int32_t> ids = t->encode("fox", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_NE(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  fs::remove_all(dir);
}

TEST(SentencePieceTokenizer, NotAModel) {
  const fs::path dir = fs::temp_directory_path() / "kiln_spm_bad";
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.model", std::ios::binary) << "\x0a\x05junk";
  try {
    Tokenizer::load(dir.string());
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidModel);
    EXPECT_NE(std::string(e.what()).find("tokenizer.model: not a SentencePiece model"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::llm
