// The generation loop on the shipped models/kjv: greedy output equals an argmax over a full
// recompute of every step, sampling repeats with a seed, and each way generation ends (EOS, stop
// string, max tokens, full context) ends it where it should; a prompt extending what the cache
// holds is prefilled from there only and gives what a fresh generator gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "error_of.h"
#include "llm/generator.h"
#include "kjv_model.h"
#include "llm/llama_loader.h"

namespace kiln::llm {
namespace {


class GeneratorTest : public testing::KjvModelTest {
 protected:

  struct Run {
    std::string text;
    GenerationStats stats;
  };
  static Run run(Generator& generator, const std::vector<int32_t>& prompt, const GenerationOptions& options) {
    Run r;
    r.stats = generator.generate(prompt, options, [&r](std::string_view piece) {
      EXPECT_FALSE(piece.empty());
      r.text += piece;
    });
    return r;
  }
  static Run run(const std::vector<int32_t>& prompt, const GenerationOptions& options, int64_t context = 256) {
    Generator generator(*model_, *tokenizer_, pool_, context);
    return run(generator, prompt, options);
  }
  static GenerationOptions greedy(int64_t max_new_tokens) {
    GenerationOptions o;
    o.sampling.temperature = 0.0f;
    o.max_new_tokens = max_new_tokens;
    return o;
  }
  static std::vector<int32_t> encode(const std::string& text) { return tokenizer_->encode(text); }
  // The oracle: each next token the argmax of a forward pass over the whole sequence so far.
  static std::vector<int32_t> argmax_continuation(std::vector<int32_t> ids, int steps) {
    const size_t prompt_size = ids.size();
    const int64_t vocab = model_->config().vocab_size;
    for (int step = 0; step < steps; ++step) {
      KvCache cache(model_->kv_cache_shape(16));
      KvSequence sequence;
      ForwardState state;
      const SequenceChunk chunk[] = {{&sequence, ids, false}};
      model_->forward(chunk, cache, state, pool_);
      ids.push_back(static_cast<int32_t>(std::max_element(state.logits.begin(), state.logits.begin() + vocab) -
                                         state.logits.begin()));
    }
    return {ids.begin() + static_cast<std::ptrdiff_t>(prompt_size), ids.end()};
  }

  static ThreadPool pool_;
};

ThreadPool GeneratorTest::pool_(1);

TEST_F(GeneratorTest, GreedyIsTheArgmaxOfAFullRecomputeAtEachStep) {
  const std::vector<int32_t> generated = argmax_continuation(encode("Genesis 1:1"), 24);
  const size_t prompt_size = encode("Genesis 1:1").size();
  const Run r = run(encode("Genesis 1:1"), greedy(24));
  EXPECT_EQ(r.text, tokenizer_->decode(generated, true));
  EXPECT_EQ(r.stats.generated_tokens, 24);
  EXPECT_EQ(r.stats.prompt_tokens, static_cast<int64_t>(prompt_size));
  EXPECT_EQ(r.stats.prefilled_tokens, static_cast<int64_t>(prompt_size));
  EXPECT_EQ(r.stats.stop_reason, StopReason::MaxTokens);
  EXPECT_EQ(r.stats.token_ids, generated);
  EXPECT_EQ(run(encode("Genesis 1:1"), greedy(24)).text, r.text);
}

TEST_F(GeneratorTest, CancellingEndsGenerationBeforeTheNextTokenAndKeepsTheCache) {
  Generator generator(*model_, *tokenizer_, pool_, 256);
  std::atomic<bool> cancel = false;
  GenerationOptions o = greedy(40);
  o.cancel = &cancel;
  std::string text;
  int pieces = 0;
  const GenerationStats stats = generator.generate(encode("Genesis 1:1"), o, [&](std::string_view piece) {
    text += piece;
    if (++pieces == 3) cancel = true;
  });
  EXPECT_EQ(stats.stop_reason, StopReason::Cancelled);
  EXPECT_EQ(stats.generated_tokens, 3);
  EXPECT_EQ(text, run(encode("Genesis 1:1"), greedy(3)).text);
  // The cache holds the prompt and every sampled token but the last, which never ran: a prompt
  // that adds the generated tokens prefills only that one.
  std::vector<int32_t> longer = encode("Genesis 1:1");
  longer.insert(longer.end(), stats.token_ids.begin(), stats.token_ids.end());
  cancel = false;
  EXPECT_EQ(generator.generate(longer, greedy(1), [](std::string_view) {}).prefilled_tokens, 1);
}

TEST_F(GeneratorTest, TheSameSeedRepeatsADifferentSeedDiffers) {
  GenerationOptions o;
  o.max_new_tokens = 40;
  o.sampling.seed = 7;
  const Run first = run(encode("Psalms 23:1"), o);
  EXPECT_EQ(run(encode("Psalms 23:1"), o).text, first.text);
  o.sampling.seed = 8;
  EXPECT_NE(run(encode("Psalms 23:1"), o).text, first.text);
  EXPECT_EQ(first.stats.generated_tokens, 40);
}

TEST_F(GeneratorTest, AStopStringCutsTheTextBeforeIt) {
  const Run full = run(encode("Genesis 1:1"), greedy(40));
  ASSERT_GT(full.text.size(), 20u);
  // A stop string from the middle of the text, most likely spanning tokens.
  const std::string stop = full.text.substr(10, 6);
  GenerationOptions o = greedy(40);
  o.stop_strings = {"zzzz", stop};
  const Run cut = run(encode("Genesis 1:1"), o);
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(cut.stats.stop_reason, StopReason::StopString);
  EXPECT_LT(cut.stats.generated_tokens, 40);
}

TEST_F(GeneratorTest, MaxTokensIsHonouredAndZeroGeneratesNothing) {
  const Run five = run(encode("Exodus 3:14"), greedy(5));
  EXPECT_EQ(five.stats.generated_tokens, 5);
  EXPECT_EQ(five.stats.stop_reason, StopReason::MaxTokens);
  EXPECT_EQ(run(encode("Exodus 3:14"), greedy(40)).text.substr(0, five.text.size()), five.text);
  const Run none = run(encode("Exodus 3:14"), greedy(0));
  EXPECT_EQ(none.stats.generated_tokens, 0);
  EXPECT_EQ(none.text, "");
}

TEST_F(GeneratorTest, AnEosTokenEndsGenerationAndIsNotEmitted) {
  GenerationOptions o = greedy(40);
  o.eos_ids = {4095, argmax_continuation(encode("John 3:16"), 1).front()};
  const Run r = run(encode("John 3:16"), o);
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(r.stats.generated_tokens, 1);
  EXPECT_EQ(r.stats.stop_reason, StopReason::Eos);
}

TEST_F(GeneratorTest, AFullContextEndsGeneration) {
  const std::vector<int32_t> prompt = encode("Genesis 1:1");
  GenerationOptions o = greedy(1000);
  const Run r = run(prompt, o, 20);
  EXPECT_EQ(r.stats.stop_reason, StopReason::ContextFull);
  // Every position holds a token, and the last one sampled is never run.
  EXPECT_EQ(r.stats.generated_tokens, 20 - static_cast<int64_t>(prompt.size()) + 1);
  EXPECT_EQ(r.text, run(prompt, greedy(r.stats.generated_tokens)).text);
}

TEST_F(GeneratorTest, APromptExtendingTheCacheIsPrefilledFromWhereTheCacheEnds) {
  Generator generator(*model_, *tokenizer_, pool_, 256, 3);  // chunks of 3: a long prompt in pieces
  std::vector<int32_t> prompt = encode("Genesis 1:1 In the beginning");
  run(generator, prompt, greedy(0));  // the cache holds the prompt
  for (const int32_t id : tokenizer_->encode(" God created the heaven", false)) prompt.push_back(id);
  const Run extended = run(generator, prompt, greedy(4));
  EXPECT_EQ(extended.stats.prefilled_tokens, 4);
  EXPECT_EQ(extended.text, run(prompt, greedy(4)).text);
  // As a chat's next turn: the reply so far (its last token sampled but never run), then more.
  for (const int32_t id : argmax_continuation(prompt, 4)) prompt.push_back(id);
  const size_t turn = prompt.size();
  for (const int32_t id : tokenizer_->encode(" and the earth", false)) prompt.push_back(id);
  const Run next_turn = run(generator, prompt, greedy(12));
  EXPECT_EQ(next_turn.stats.prefilled_tokens, static_cast<int64_t>(prompt.size() - turn) + 1);
  EXPECT_EQ(next_turn.text, run(prompt, greedy(12)).text);
  // A prompt that departs from the cache starts over.
  const Run other = run(generator, encode("Exodus 1:1"), greedy(12));
  EXPECT_EQ(other.stats.prefilled_tokens, static_cast<int64_t>(encode("Exodus 1:1").size()));
  EXPECT_EQ(other.text, run(encode("Exodus 1:1"), greedy(12)).text);
}

TEST_F(GeneratorTest, BadInputIsAnErrorNamingIt) {
  Generator generator(*model_, *tokenizer_, pool_, 8);
  auto e = testing::error_of([&] { generator.generate({}, greedy(4), [](std::string_view) {}); });
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("the prompt has no tokens"), std::string::npos) << e->what();
  e = testing::error_of([&] { generator.generate(encode("Genesis 1:1 In the beginning God created the heaven and the earth."), greedy(4), [](std::string_view) {}); });
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("do not fit the context of 8"), std::string::npos) << e->what();
  e = testing::error_of([&] { Generator(*model_, *tokenizer_, pool_, 257); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), ErrorCode::InvalidArgument);
  EXPECT_NE(std::string(e->what()).find("max_position_embeddings"), std::string::npos) << e->what();
  GenerationOptions bad = greedy(4);
  bad.sampling.top_p = 0.0f;
  e = testing::error_of([&] { generator.generate(encode("Gen"), bad, [](std::string_view) {}); });
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("top_p"), std::string::npos) << e->what();
}

}  // namespace
}  // namespace kiln::llm
