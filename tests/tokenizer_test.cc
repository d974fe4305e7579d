// Tokenizers on tiny tokenizer.json files written here: BPE merge order, ignore_merges, both merge
// formats, added tokens (lstrip, rstrip, single_word, normalized), SentencePiece-style byte
// fallback and its decoders, the pre-tokenizers' split behaviours and regexes, the streaming
// decoder on characters split across tokens, each malformed form with the error it must give,
// and random mutations of a valid file that may fail only with kiln::Error.
#include "llm/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "kiln/error.h"
#include "llm/tokenizer_byte_level.h"
#include "llm/tokenizer_hf.h"
#include "llm/tokenizer_normalize.h"
#include "llm/tokenizer_pretokenize.h"

namespace kiln::llm {
namespace {

using json = nlohmann::json;

std::string byte_level(const std::string& text) {
  std::string s;
  append_byte_level(text, s);
  return s;
}

// Byte-level BPE as GPT-2's files are: the 256 byte symbols (ids 0-255, in byte order), then the
// tokens that `merges` make, in order.
json byte_level_file(const std::vector<std::pair<std::string, std::string>>& merges) {
  json vocab = json::object(), merge_list = json::array();
  for (int b = 0; b < 256; ++b) vocab[byte_level_char(static_cast<unsigned char>(b))] = b;
  for (const auto& [a, b] : merges) {
    const std::string merged = byte_level(a + b);
    if (!vocab.contains(merged)) vocab[merged] = vocab.size();
    merge_list.push_back(byte_level(a) + " " + byte_level(b));
  }
  return {{"version", "1.0"},
          {"added_tokens", json::array()},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}}}};
}

const std::vector<std::pair<std::string, std::string>> kHelloMerges = {
    {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {" ", "w"}, {"o", "r"}, {" w", "or"}, {" wor", "l"}, {" worl", "d"},
    {"a", "a"}};

std::unique_ptr<Tokenizer> load(const json& file) { return load_hf_tokenizer(file.dump(), "tiny/tokenizer.json"); }

int32_t id_of(const Tokenizer& t, const std::string& token) {
  const std::optional<int32_t> id = t.token_to_id(token);
  EXPECT_TRUE(id) << token;
  return id.value_or(-1);
}

// What each push of a StreamingDecoder returns.
std::vector<std::string> stream_pieces(const Tokenizer& t, const std::vector<int32_t>& ids, bool skip_special = true) {
  StreamingDecoder stream(t, skip_special);
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(stream.push(id));
  pieces.push_back(stream.finish());
  return pieces;
}

TEST(Tokenizer, ByteLevelBpeMergesLowestRankFirst) {
  const auto t = load(byte_level_file(kHelloMerges));
  const int32_t hello = id_of(*t, "hello"), world = id_of(*t, "Ġworld");
  EXPECT_EQ(t->encode("hello world"), (std::vector<int32_t>{hello, world}));
  EXPECT_EQ(t->encode("held"), (std::vector<int32_t>{id_of(*t, "he"), 'l', 'd'}));
  // Equal ranks merge leftmost first.
  EXPECT_EQ(t->encode("aaa"), (std::vector<int32_t>{id_of(*t, "aa"), 'a'}));
  EXPECT_EQ(t->decode(t->encode("hello world\n\tdone")), "hello world\n\tdone");
  EXPECT_EQ(t->vocab_size(), 256 + 10);
  EXPECT_EQ(t->id_to_token(hello), "hello");
  EXPECT_THROW(t->id_to_token(t->vocab_size()), Error);
  EXPECT_EQ(t->bos_id(), std::nullopt);

  // The pair form of merges (tokenizers >= 0.20) reads the same.
  json pairs = byte_level_file(kHelloMerges);
  for (json& m : pairs["model"]["merges"]) {
    const std::string s = m;
    m = json::array({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  EXPECT_EQ(load(pairs)->encode("hello world"), t->encode("hello world"));
}

TEST(Tokenizer, IgnoreMergesTakesAWholeWordFromTheVocabulary) {
  json file = byte_level_file(kHelloMerges);
  file["model"]["vocab"]["xyz"] = 300;  // no merge makes it
  EXPECT_EQ(load(file)->encode("xyz"), (std::vector<int32_t>{'x', 'y', 'z'}));
  file["model"]["ignore_merges"] = true;
  EXPECT_EQ(load(file)->encode("xyz"), (std::vector<int32_t>{300}));
}

TEST(Tokenizer, AddedTokensAreMatchedBeforeSplittingAndStripWhereAsked) {
  json file = byte_level_file(kHelloMerges);
  file["added_tokens"] = {
      {{"id", 400}, {"content", "<|end|>"}, {"special", true}},
      {{"id", 401}, {"content", "<mask>"}, {"lstrip", true}, {"rstrip", true}},
      {{"id", 402}, {"content", "<w>"}, {"single_word", true}},
      {{"id", 403}, {"content", "<|end|>x"}, {"normalized", false}},  // longest match wins
  };
  const auto t = load(file);
  const int32_t hello = id_of(*t, "hello");
  EXPECT_EQ(t->encode("hello<|end|>hello"), (std::vector<int32_t>{hello, 400, hello}));
  EXPECT_EQ(t->encode("<|end|>x"), (std::vector<int32_t>{403}));
  EXPECT_EQ(t->encode("hello <mask> hello"), (std::vector<int32_t>{hello, 401, hello}));
  EXPECT_EQ(t->encode("a<w>b"), (std::vector<int32_t>{'a', '<', 'w', '>', 'b'}));
  EXPECT_EQ(t->encode("a <w> b"), (std::vector<int32_t>{'a', ' ', 402, ' ', 'b'}));
  EXPECT_TRUE(t->is_special(400));
  EXPECT_FALSE(t->is_special(401));
  EXPECT_EQ(t->token_to_id("<|end|>"), 400);
  EXPECT_EQ(t->decode(std::vector<int32_t>{hello, 400, 401}), "hello<|end|><mask>");
  EXPECT_EQ(t->decode(std::vector<int32_t>{hello, 400, 401}, true), "hello<mask>");
  EXPECT_EQ(t->vocab_size(), 404);
}

TEST(Tokenizer, NormalizedAddedTokensAreMatchedAfterNormalization) {
  json file = byte_level_file(kHelloMerges);
  file["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", "[x]"}}}, {"content", "<x>"}};
  file["added_tokens"] = {{{"id", 400}, {"content", "<x>"}, {"normalized", true}}};
  EXPECT_EQ(load(file)->encode("hello[x]"), (std::vector<int32_t>{id_of(*load(file), "hello"), 400}));
}

TEST(Tokenizer, TemplateProcessingAddsBosAndEos) {
  json file = byte_level_file(kHelloMerges);
  file["added_tokens"] = {{{"id", 400}, {"content", "<s>"}, {"special", true}}, {{"id", 401}, {"content", "</s>"}, {"special", true}}};
  file["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<s>"}}}}, {{"Sequence", {{"id", "A"}}}}, {{"SpecialToken", {{"id", "</s>"}}}}}},
      {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {400}}}}, {"</s>", {{"id", "</s>"}, {"ids", {401}}}}}}};
  const auto t = load(file);
  EXPECT_EQ(t->encode("hello"), (std::vector<int32_t>{400, id_of(*t, "hello"), 401}));
  EXPECT_EQ(t->encode("hello", false), (std::vector<int32_t>{id_of(*t, "hello")}));
  EXPECT_EQ(t->bos_id(), 400);
  EXPECT_EQ(t->eos_id(), 401);
}

TEST(Tokenizer, StreamingByteLevelHoldsBackHalfCharacters) {
  const auto t = load(byte_level_file(kHelloMerges));
  // 🦊 is four bytes, each its own token here; 日 three.
  const std::vector<int32_t> ids = t->encode("hello 🦊日");
  ASSERT_EQ(ids.size(), 1u + 1u + 4u + 3u);
  EXPECT_EQ(stream_pieces(*t, ids), (std::vector<std::string>{"hello", " ", "", "", "", "🦊", "", "", "日", ""}));
  // Ids that end inside a character: finish gives U+FFFD, as decode does.
  const std::vector<int32_t> cut(ids.begin(), ids.end() - 1);
  const std::vector<std::string> pieces = stream_pieces(*t, cut);
  EXPECT_EQ(pieces.back(), "\xEF\xBF\xBD");
  EXPECT_EQ(t->decode(cut), "hello 🦊\xEF\xBF\xBD");
}

// SentencePiece-style BPE: "▁" for spaces, <0xNN> byte tokens for what the vocabulary lacks.
json sentencepiece_file(bool metaspace) {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  for (const char* t : {"▁", "h", "e", "l", "o", "▁h", "▁he", "ll", "▁hell", "▁hello"}) vocab[t] = vocab.size();
  json file = {
      {"added_tokens", {{{"id", 0}, {"content", "<unk>"}, {"special", true}}, {{"id", 1}, {"content", "<s>"}, {"special", true}},
                        {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}}}}, {{"Sequence", {{"id", "A"}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}}}}}}},
      {"model",
       {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", true}, {"byte_fallback", true}, {"vocab", vocab},
        {"merges", {"▁ h", "▁h e", "l l", "▁he ll", "▁hell o"}}}}};
  if (metaspace) {
    file["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "always"}, {"split", true}};
    file["decoder"] = {{"type", "Sequence"},
                       {"decoders", {{{"type", "ByteFallback"}}, {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "always"}}}}};
  } else {  // as Llama 2's and Mistral's files
    file["normalizer"] = {{"type", "Sequence"},
                          {"normalizers", {{{"type", "Prepend"}, {"prepend", "▁"}},
                                           {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}}}};
    file["decoder"] = {{"type", "Sequence"},
                       {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                                     {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                                     {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  }
  return file;
}

TEST(Tokenizer, SentencePieceStyleByteFallbackAndLeadingSpace) {
  for (bool metaspace : {false, true}) {
    SCOPED_TRACE(metaspace ? "Metaspace" : "Prepend + Replace");
    const auto t = load(sentencepiece_file(metaspace));
    const int32_t hello = id_of(*t, "▁hello"), space = id_of(*t, "▁");
    // © is not in the vocabulary: its two bytes' tokens.
    const std::vector<int32_t> ids = t->encode("hello ©", false);
    EXPECT_EQ(ids, (std::vector<int32_t>{hello, space, 3 + 0xC2, 3 + 0xA9}));
    EXPECT_EQ(t->encode("hello"), (std::vector<int32_t>{1, hello}));
    EXPECT_EQ(t->decode(ids), "hello ©");
    EXPECT_EQ(stream_pieces(*t, ids), (std::vector<std::string>{"hello", " ", "", "©", ""}));
    EXPECT_EQ(t->decode(t->encode("hello"), false), "<s> hello");
    if (metaspace) {
      // Metaspace prepends "▁" only to text that does not start with a space, so a leading space
      // is lost, as in Hugging Face's.
      EXPECT_EQ(t->decode(t->encode(" hello", false)), "hello");
      continue;
    }
    // Strip takes the first token's space, once: a text's own leading space stays.
    EXPECT_EQ(t->decode(t->encode(" hello", false)), " hello");
    EXPECT_EQ(stream_pieces(*t, t->encode(" hello")), (std::vector<std::string>{"", "", " hello", ""}));
  }
}

TEST(Tokenizer, UnknownCodePointsWithoutByteFallbackFuseIntoOneUnk) {
  json file = sentencepiece_file(false);
  file["model"]["byte_fallback"] = false;
  const auto t = load(file);
  EXPECT_EQ(t->encode("hello ©©", false), (std::vector<int32_t>{id_of(*t, "▁hello"), id_of(*t, "▁"), 0}));
  file["model"]["fuse_unk"] = false;
  EXPECT_EQ(load(file)->encode("©©", false), (std::vector<int32_t>{id_of(*t, "▁"), 0, 0}));
}

std::vector<std::string> split_with(const json& spec, const std::string& text) {
  return PreTokenizer::from_json(JsonAt(spec, "test", "pre_tokenizer")).split(text, true);
}

TEST(Tokenizer, SplitBehavioursAsHuggingFaceDocumentsThem) {
  const auto split = [](const char* behavior, bool invert = false) {
    return split_with({{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}},
                      "the-final--countdown");
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(split("Removed"), (V{"the", "final", "countdown"}));
  EXPECT_EQ(split("Isolated"), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split("MergedWithPrevious"), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split("MergedWithNext"), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split("Contiguous"), (V{"the", "-", "final", "--", "countdown"}));
  EXPECT_EQ(split("Removed", true), (V{"-", "-", "-"}));
}

TEST(Tokenizer, Llama3RegexThroughPcre2) {
  const json spec = {
      {"type", "Split"},
      {"pattern",
       {{"Regex",
         R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
      {"behavior", "Isolated"}};
  EXPECT_EQ(split_with(spec, "I'M 12345 abc\n\n  x ünï"),
            (std::vector<std::string>{"I", "'M", " ", "123", "45", " abc", "\n\n", " ", " x", " ünï"}));
}

TEST(Tokenizer, UnicodeNormalForms) {
  const Normalizer nfc = Normalizer::from_json(JsonAt(json{{"type", "NFC"}}, "test", "normalizer"));
  EXPECT_EQ(nfc.apply("e\u0301 and \u00e9"), "\u00e9 and \u00e9");
  const Normalizer nfkc = Normalizer::from_json(JsonAt(json{{"type", "NFKC"}}, "test", "normalizer"));
  EXPECT_EQ(nfkc.apply("\ufb01"), "fi");
}

TEST(Tokenizer, RejectsTextThatIsNotUtf8AndIdsOutsideTheVocabulary) {
  const auto t = load(byte_level_file(kHelloMerges));
  try {
    t->encode("ok\xC3(");
    ADD_FAILURE() << "encoded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("not valid UTF-8 at byte 2"), std::string::npos) << e.what();
  }
  try {
    t->decode(std::vector<int32_t>{'a', 999});
    ADD_FAILURE() << "decoded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("no token has id 999"), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, LoadPrefersTokenizerJsonInADirectory) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "kiln_tokenizer_dir";
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << byte_level_file(kHelloMerges).dump();
  std::ofstream(dir / "tokenizer.model") << "not read";
  std::ofstream(dir / "tokenizer_config.json") << R"({"bos_token": "hello", "add_bos_token": true})";
  const auto t = Tokenizer::load(dir.string());
  EXPECT_EQ(t->encode("hello"), (std::vector<int32_t>{id_of(*t, "hello"), id_of(*t, "hello")}));
  std::ofstream(dir / "tokenizer_config.json") << R"({"bos_token": "nope", "add_bos_token": true})";
  try {
    Tokenizer::load(dir.string());
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json: bos_token: 'nope' is not in the vocabulary"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
  EXPECT_THROW(Tokenizer::load(dir.string()), Error);
}

struct Malformed {
  std::string what;
  std::function<void(json&)> change;
  std::string message;
  ErrorCode code = ErrorCode::InvalidModel;
};

TEST(Tokenizer, MalformedFilesNameTheFileAndTheJsonPath) {
  const std::vector<Malformed> cases = {
      {"model type", [](json& f) { f["model"]["type"] = "Unigram"; }, "model.type: model 'Unigram' is not supported",
       ErrorCode::NotImplemented},
      {"merge without space", [](json& f) { f["model"]["merges"][3] = "hello"; },
       "model.merges[3]: \"hello\" must be two tokens separated by one space"},
      {"merge of unknown token", [](json& f) { f["model"]["merges"][1] = "l qq"; }, "model.merges[1]: 'qq' is not in the vocabulary"},
      {"merge making an unknown token", [](json& f) { f["model"]["merges"][1] = "l q"; },
       "model.merges[1]: the merged token 'lq' is not in the vocabulary"},
      {"merge pair of three", [](json& f) { f["model"]["merges"][0] = {"h", "e", "l"}; }, "model.merges[0]: must be a pair of strings"},
      {"vocab id negative", [](json& f) { f["model"]["vocab"]["h"] = -4; }, "model.vocab[\"h\"]: id -4 is outside"},
      {"vocab id a string", [](json& f) { f["model"]["vocab"]["h"] = "7"; }, "model.vocab[\"h\"]: must be an integer id"},
      {"vocab id twice", [](json& f) { f["model"]["vocab"]["hello"] = 104; }, "model.vocab: id 104 is given to both"},
      {"no merges", [](json& f) { f["model"].erase("merges"); }, "model: has no 'merges'"},
      {"dropout", [](json& f) { f["model"]["dropout"] = 0.1; }, "model.dropout: BPE dropout is not supported",
       ErrorCode::NotImplemented},
      {"added token without content", [](json& f) { f["added_tokens"] = {{{"id", 5}}}; }, "added_tokens[0]: has no 'content'"},
      {"added token id", [](json& f) { f["added_tokens"] = {{{"id", -1}, {"content", "x"}}}; }, "added_tokens[0].id: token id -1 is outside"},
      {"bad regex", [](json& f) { f["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(\\p{L}"}}}, {"behavior", "Isolated"}}; },
       "pre_tokenizer.pattern.Regex: regex /(\\p{L}/ does not compile at offset 6"},
      {"split behavior", [](json& f) { f["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}}; },
       "pre_tokenizer.behavior: 'Sideways' is not a split behavior"},
      {"pre-tokenizer type", [](json& f) { f["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Digits"}}}}}; },
       "pre_tokenizer.pretokenizers[0].type: pre_tokenizer 'Digits' is not supported", ErrorCode::NotImplemented},
      {"normalizer type", [](json& f) { f["normalizer"] = {{"type", "Lowercase"}}; }, "normalizer.type: normalizer 'Lowercase' is not supported",
       ErrorCode::NotImplemented},
      {"decoder after Fuse", [](json& f) { f["decoder"] = {{"type", "Sequence"}, {"decoders", {{{"type", "Fuse"}}, {{"type", "ByteFallback"}}}}}; },
       "decoder.decoders[1].type: decoder 'ByteFallback' after Fuse is not supported", ErrorCode::NotImplemented},
      {"template token", [](json& f) {
         f["post_processor"] = {{"type", "TemplateProcessing"}, {"single", {{{"SpecialToken", {{"id", "<s>"}}}}}}, {"special_tokens", json::object()}};
       }, "post_processor.single[0].SpecialToken.id: '<s>' is not in special_tokens"},
      {"template id", [](json& f) {
         f["post_processor"] = {{"type", "TemplateProcessing"}, {"single", {{{"SpecialToken", {{"id", "<s>"}}}}}},
                                {"special_tokens", {{"<s>", {{"ids", {9999}}}}}}};
       }, "post_processor: token id 9999 is not in the vocabulary"},
      {"pattern", [](json& f) { f["normalizer"] = {{"type", "Replace"}, {"pattern", json::object()}, {"content", "x"}}; },
       "normalizer.pattern: must have one of String and Regex"},
      {"model not an object", [](json& f) { f["model"] = 3; }, "model: must be an object"},
  };
  for (const Malformed& c : cases) {
    json file = byte_level_file(kHelloMerges);
    c.change(file);
    try {
      load(file);
      ADD_FAILURE() << c.what << ": loaded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.code) << c.what << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("tiny/tokenizer.json: " + c.message), std::string::npos) << c.what << ": " << e.what();
    }
  }
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"{\"model\": ", "tiny/tokenizer.json: not JSON at byte 11"},
           {"[1, 2]", "tiny/tokenizer.json: not a JSON object"},
           {std::string(100, '[') + std::string(100, ']'), "tiny/tokenizer.json: nests deeper than 64"}}) {
    try {
      load_hf_tokenizer(text, "tiny/tokenizer.json");
      ADD_FAILURE() << text << ": loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

// Random byte-level mutations of a valid file: loading, encoding and decoding may fail, but only
// with kiln::Error (anything else, or a sanitizer report, is a bug).
TEST(Tokenizer, RandomMutationsFailOnlyWithKilnErrors) {
  json base = sentencepiece_file(false);
  base["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\s+|\\p{L}+"}}}, {"behavior", "Isolated"}};
  base["added_tokens"].push_back({{"id", 300}, {"content", "<x>"}, {"lstrip", true}, {"single_word", true}});
  const std::string valid = base.dump();
  std::mt19937 rng(11);
  const std::string alphabet = "{}[]\":,0123456789-e. abc\\u";
  int loaded = 0;
  for (int trial = 0; trial < 150; ++trial) {
    std::string text = valid;
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      const size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        default: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      }
    }
    try {
      const auto t = load_hf_tokenizer(text, "fuzz/tokenizer.json");
      ++loaded;
      const std::vector<int32_t> ids = t->encode("hello <x> wörld ©\n", true);
      t->decode(ids);
      std::vector<int32_t> any = ids;
      any.push_back(static_cast<int32_t>(rng() % 400));
      t->decode(any);
    } catch (const Error&) {
    }
  }
  EXPECT_GT(loaded, 0);  // some mutations leave a valid file, so encoding is reached
}

}  // namespace
}  // namespace kiln::llm
