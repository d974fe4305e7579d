// The sampler chain: greedy, each filter's kept set, the penalties' arithmetic, the draw's
// distribution (chi-square against the expected probabilities, fixed seeds so every run sees the
// same draws), reproducibility from the seed, and the errors for bad parameters and logits.
#include "llm/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kiln/error.h"

namespace kiln::llm {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> random_logits(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(n);
  for (float& x : logits) x = normal(rng);
  return logits;
}

std::vector<float> log_of(const std::vector<double>& probabilities) {
  std::vector<float> logits;
  for (double p : probabilities) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

// How often each id comes out of `draws` samples (the logits copied afresh each time, since
// sample() writes to them).
std::vector<int> histogram(Sampler& sampler, const std::vector<float>& logits, int draws) {
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < draws; ++i) {
    std::vector<float> scratch = logits;
    ++counts[sampler.sample(scratch, {})];
  }
  return counts;
}

// Pearson's statistic of `counts` against `expected` probabilities (summing to 1 over the ids
// that may occur); ids with probability 0 must never occur.
double chi_square(const std::vector<int>& counts, const std::vector<double>& expected) {
  const double n = std::accumulate(counts.begin(), counts.end(), 0.0);
  double statistic = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (expected[i] == 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " is outside the kept set";
      continue;
    }
    const double e = n * expected[i];
    statistic += (counts[i] - e) * (counts[i] - e) / e;
  }
  return statistic;
}

// Chi-square critical values at p = 0.001 by degrees of freedom (1, 2, 3): a correct sampler
// exceeds them once in a thousand seeds, and the seeds are fixed.
constexpr double kChiSquare999[] = {0.0, 10.83, 13.82, 16.27};

std::set<int32_t> drawn_ids(Sampler& sampler, const std::vector<float>& logits, int draws) {
  const std::vector<int> counts = histogram(sampler, logits, draws);
  std::set<int32_t> ids;
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] > 0) ids.insert(static_cast<int32_t>(i));
  return ids;
}

SamplingParams sampling(uint64_t seed = 1) {
  SamplingParams p;
  p.seed = seed;
  return p;
}

TEST(Sampler, GreedyIsTheArgmaxAndTheLowestIdWinsATie) {
  SamplingParams p;
  p.temperature = 0.0f;
  ASSERT_TRUE(p.greedy());
  Sampler sampler(p);
  std::vector<float> tied = {1.0f, 5.0f, 3.0f, 5.0f, -kInf};
  EXPECT_EQ(sampler.sample(tied, {}), 1);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = random_logits(1000 + seed, seed);
    const auto expected = std::max_element(logits.begin(), logits.end()) - logits.begin();
    EXPECT_EQ(sampler.sample(logits, {}), expected) << "seed " << seed;
  }
}

TEST(Sampler, TopKOfOneIsGreedyAtAnyTemperature) {
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  Sampler reference(greedy);
  for (float temperature : {0.5f, 1.0f, 3.0f}) {
    SamplingParams p = sampling(7);
    p.top_k = 1;
    p.temperature = temperature;
    Sampler sampler(p);
    for (uint64_t seed = 0; seed < 20; ++seed) {
      std::vector<float> logits = random_logits(500, seed);
      logits[seed * 7] = logits[seed * 11] = 20.0f;  // a tie at the top
      std::vector<float> copy = logits;
      EXPECT_EQ(sampler.sample(logits, {}), reference.sample(copy, {})) << "seed " << seed;
    }
  }
}

TEST(Sampler, DrawsFollowTheSoftmax) {
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  Sampler sampler(sampling(42));
  EXPECT_LT(chi_square(histogram(sampler, log_of(p), 20000), p), kChiSquare999[3]);
}

TEST(Sampler, TemperatureSharpensOrFlattens) {
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  for (double temperature : {0.5, 2.0}) {
    // softmax(log p / T) is p^(1/T), renormalized.
    std::vector<double> expected;
    for (double q : p) expected.push_back(std::pow(q, 1.0 / temperature));
    const double sum = std::accumulate(expected.begin(), expected.end(), 0.0);
    for (double& q : expected) q /= sum;
    SamplingParams params = sampling(3);
    params.temperature = static_cast<float>(temperature);
    Sampler sampler(params);
    EXPECT_LT(chi_square(histogram(sampler, log_of(p), 20000), expected), kChiSquare999[3]) << "T " << temperature;
  }
}

TEST(Sampler, TopKKeepsTheKLargestAndBreaksTiesByLowerId) {
  SamplingParams p = sampling(5);
  p.top_k = 2;
  Sampler sampler(p);
  EXPECT_EQ(drawn_ids(sampler, {1.0f, 3.0f, 2.0f, 3.0f, 0.0f}, 2000), (std::set<int32_t>{1, 3}));
  EXPECT_EQ(drawn_ids(sampler, {0.0f, 2.0f, 2.0f, 2.0f, 1.0f}, 2000), (std::set<int32_t>{1, 2}));

  p.top_k = 3;
  Sampler large(p);
  const std::vector<float> logits = random_logits(128256, 9);
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  for (int i = 0; i < 10; ++i) {
    std::vector<float> scratch = logits;
    const int32_t id = large.sample(scratch, {});
    EXPECT_TRUE(id == order[0] || id == order[1] || id == order[2]) << id;
  }
}

TEST(Sampler, TopPKeepsTheShortestPrefixReachingP) {
  // Ids in an order unlike their probabilities: 0.4 + 0.3 is the first prefix reaching 0.65.
  const std::vector<double> p = {0.2, 0.4, 0.1, 0.3};
  SamplingParams params = sampling(11);
  params.top_p = 0.65f;
  Sampler sampler(params);
  EXPECT_LT(chi_square(histogram(sampler, log_of(p), 20000), {0.0, 4.0 / 7, 0.0, 3.0 / 7}), kChiSquare999[1]);
}

TEST(Sampler, TopPOverALargeVocabularyKeepsExactlyTheReferenceSet) {
  // 100 similar tokens and a long tail: the kept prefix covers many of keep_top_p's buckets
  // (kept unsorted) and ends inside one (sorted), so the set is checked at that hand-over.
  constexpr size_t kVocab = 500;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<float> jitter(0.0f, 0.5f);
  std::vector<float> logits(kVocab);
  for (size_t i = 0; i < kVocab; ++i) logits[i] = (i % 5 == 0 ? 0.0f : -9.0f) + jitter(rng);
  SamplingParams params = sampling(23);
  params.top_p = 0.9f;

  std::vector<double> weight(kVocab);
  for (size_t i = 0; i < kVocab; ++i) weight[i] = std::exp(static_cast<double>(logits[i]));
  const double total = std::accumulate(weight.begin(), weight.end(), 0.0);
  std::vector<int32_t> order(kVocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return weight[a] > weight[b]; });
  std::set<int32_t> expected;
  for (double mass = 0.0; mass < params.top_p * total;) {
    expected.insert(order[expected.size()]);
    mass += weight[order[expected.size() - 1]];
  }
  ASSERT_GT(expected.size(), 50u);
  ASSERT_LT(expected.size(), 100u);

  Sampler sampler(params);
  EXPECT_EQ(drawn_ids(sampler, logits, 1500), expected);
}

TEST(Sampler, MinPKeepsTokensWithinItsRatioOfTheTop) {
  // Probabilities relative to the top: 1, 0.5, 0.2, 0.09, 0.01.
  const std::vector<double> relative = {0.2, 0.01, 1.0, 0.09, 0.5};
  SamplingParams params = sampling(13);
  params.min_p = 0.1f;
  Sampler sampler(params);
  EXPECT_LT(chi_square(histogram(sampler, log_of(relative), 20000), {0.2 / 1.7, 0.0, 1.0 / 1.7, 0.0, 0.5 / 1.7}),
            kChiSquare999[2]);

  // At T = 2 the ratios are square roots (1, 0.71, 0.45, 0.3, 0.1): 0.4 keeps three again.
  params.min_p = 0.4f;
  params.temperature = 2.0f;
  Sampler warm(params);
  EXPECT_EQ(drawn_ids(warm, log_of(relative), 3000), (std::set<int32_t>{0, 2, 4}));
}

TEST(Sampler, TopPRunsOnWhatTopKAndMinPLeftRenormalized) {
  const std::vector<float> logits = log_of({0.5, 0.2, 0.15, 0.15});
  SamplingParams params = sampling(19);
  params.top_p = 0.8f;
  Sampler top_p_alone(params);  // 0.5, 0.7, 0.85: three tokens
  EXPECT_EQ(drawn_ids(top_p_alone, logits, 3000), (std::set<int32_t>{0, 1, 2}));
  params.top_k = 3;  // 0.59, 0.24, 0.18 of the three left: 0.59 + 0.24 reaches 0.8
  Sampler after_top_k(params);
  EXPECT_EQ(drawn_ids(after_top_k, logits, 3000), (std::set<int32_t>{0, 1}));

  const std::vector<float> peaked = log_of({0.5, 0.3, 0.1, 0.1});
  params = sampling(29);
  params.top_p = 0.6f;
  Sampler alone(params);  // 0.5, 0.8: two tokens
  EXPECT_EQ(drawn_ids(alone, peaked, 3000), (std::set<int32_t>{0, 1}));
  params.min_p = 0.25f;  // keeps 0.5 and 0.3, renormalized to 0.625 and 0.375: one reaches 0.6
  Sampler after_min_p(params);
  EXPECT_EQ(drawn_ids(after_min_p, peaked, 3000), (std::set<int32_t>{0}));
}

TEST(Sampler, MaskedTokensAreNeverDrawn) {
  Sampler sampler(sampling(31));
  EXPECT_EQ(drawn_ids(sampler, {-kInf, 0.0f, -kInf, 1.0f, -kInf}, 2000), (std::set<int32_t>{1, 3}));
}

TEST(Sampler, PenaltiesChangeLogitsAsDefined) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  p.penalty_last_n = 4;
  Sampler sampler(p);
  std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.5f, -1.0f};
  const std::vector<int32_t> history = {4, 0, 1, 0, 3};  // the window is {0, 1, 0, 3}
  sampler.apply_penalties(logits, history);
  // Repetition once per distinct token (token 0 is divided once although it occurs twice), then
  // count * frequency + presence subtracted.
  EXPECT_FLOAT_EQ(logits[0], 2.0f / 2.0f - (2 * 0.25f + 0.5f));
  EXPECT_FLOAT_EQ(logits[1], -2.0f * 2.0f - (1 * 0.25f + 0.5f));
  EXPECT_FLOAT_EQ(logits[2], 1.0f);   // not in the history
  EXPECT_FLOAT_EQ(logits[3], 0.5f / 2.0f - (1 * 0.25f + 0.5f));
  EXPECT_FLOAT_EQ(logits[4], -1.0f);  // only before the window

  p.penalty_last_n = -1;
  Sampler whole(p);
  std::vector<float> all = {2.0f, -2.0f, 1.0f, 0.5f, -1.0f};
  whole.apply_penalties(all, history);
  EXPECT_FLOAT_EQ(all[4], -1.0f * 2.0f - (1 * 0.25f + 0.5f));

  // Repeated calls see clean counts: the second application is the first one again.
  std::vector<float> again = {2.0f, -2.0f, 1.0f, 0.5f, -1.0f};
  whole.apply_penalties(again, history);
  EXPECT_EQ(again, all);

  p.penalty_last_n = 0;
  Sampler none(p);
  std::vector<float> untouched = {2.0f, -2.0f, 1.0f, 0.5f, -1.0f};
  none.apply_penalties(untouched, history);
  EXPECT_EQ(untouched, (std::vector<float>{2.0f, -2.0f, 1.0f, 0.5f, -1.0f}));
}

TEST(Sampler, PenaltiesComeBeforeGreedy) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = 1.1f;
  Sampler sampler(p);
  std::vector<float> logits = {3.0f, 2.9f};
  const std::vector<int32_t> history = {0};
  EXPECT_EQ(sampler.sample(logits, history), 1);
}

TEST(Sampler, TheDrawIsTheSeedsMt19937OutputAsAUniformNumberOnTheCdf) {
  // u = (top 53 bits of the next mt19937_64 output) / 2^53, whose sequence the standard fixes,
  // picks the token whose CDF interval holds it: the ids are the same on every platform. Draws
  // within 1e-5 of an interval's edge, where float rounding of the probabilities decides, are
  // not checked.
  const std::vector<float> logits = log_of({0.2, 0.5, 0.3});
  for (uint64_t seed : {0ull, 1ull, 12345ull}) {
    Sampler sampler(sampling(seed));
    std::mt19937_64 reference(seed);
    int checked = 0;
    for (int i = 0; i < 500; ++i) {
      const double u = static_cast<double>(reference() >> 11) / 9007199254740992.0;
      std::vector<float> scratch = logits;
      const int32_t id = sampler.sample(scratch, {});
      if (std::abs(u - 0.2) < 1e-5 || std::abs(u - 0.7) < 1e-5) continue;
      ASSERT_EQ(id, u < 0.2 ? 0 : u < 0.7 ? 1 : 2) << "seed " << seed << " draw " << i << " u " << u;
      ++checked;
    }
    EXPECT_GT(checked, 490);
  }
}

TEST(Sampler, TheSameSeedGivesTheSameSequenceAndAnotherSeedAnother) {
  const std::vector<float> logits = random_logits(2000, 3);
  auto run = [&](uint64_t seed) {
    SamplingParams p = sampling(seed);
    p.top_p = 0.95f;
    p.top_k = 50;
    p.repetition_penalty = 1.2f;
    Sampler sampler(p);
    std::vector<int32_t> ids;
    for (int i = 0; i < 50; ++i) {
      std::vector<float> scratch = logits;
      ids.push_back(sampler.sample(scratch, ids));
    }
    return ids;
  };
  const std::vector<int32_t> first = run(99);
  EXPECT_EQ(run(99), first);
  EXPECT_NE(run(100), first);
}

TEST(Sampler, ParametersOutOfRangeAreErrorsNamingTheField) {
  auto expect_invalid = [](auto change, const std::string& field) {
    SamplingParams p;
    change(p);
    try {
      Sampler sampler(p);
      ADD_FAILURE() << field << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  expect_invalid([](SamplingParams& p) { p.temperature = -0.5f; }, "temperature");
  expect_invalid([](SamplingParams& p) { p.temperature = std::nanf(""); }, "temperature");
  expect_invalid([](SamplingParams& p) { p.top_k = -1; }, "top_k");
  expect_invalid([](SamplingParams& p) { p.top_p = 0.0f; }, "top_p");
  expect_invalid([](SamplingParams& p) { p.top_p = 1.5f; }, "top_p");
  expect_invalid([](SamplingParams& p) { p.min_p = -0.1f; }, "min_p");
  expect_invalid([](SamplingParams& p) { p.min_p = 1.01f; }, "min_p");
  expect_invalid([](SamplingParams& p) { p.repetition_penalty = 0.0f; }, "repetition_penalty");
  expect_invalid([](SamplingParams& p) { p.presence_penalty = kInf; }, "presence_penalty");
  expect_invalid([](SamplingParams& p) { p.frequency_penalty = std::nanf(""); }, "frequency_penalty");
  expect_invalid([](SamplingParams& p) { p.penalty_last_n = -2; }, "penalty_last_n");
}

TEST(Sampler, BadLogitsAndHistoryAreErrorsNamingWhere) {
  SamplingParams p;
  p.repetition_penalty = 1.3f;
  Sampler sampler(p);
  auto message = [&](std::vector<float> logits, std::vector<int32_t> history, ErrorCode code) {
    try {
      sampler.sample(logits, history);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({}, {}, ErrorCode::InvalidArgument).find("no logits"), std::string::npos);
  EXPECT_NE(message({0.0f, 1.0f}, {1, 2}, ErrorCode::InvalidArgument).find("history[1] = 2"), std::string::npos);
  EXPECT_NE(message({0.0f, 1.0f}, {-1, 1}, ErrorCode::InvalidArgument).find("history[0] = -1"), std::string::npos);
  EXPECT_NE(message({0.0f, std::nanf(""), 1.0f}, {}, ErrorCode::Runtime).find("token 1 is nan"), std::string::npos);
  EXPECT_NE(message({0.0f, kInf}, {}, ErrorCode::Runtime).find("token 1 is inf"), std::string::npos);
  EXPECT_NE(message({-kInf, -kInf}, {}, ErrorCode::Runtime).find("every logit is -inf"), std::string::npos);
  // A failed call leaves the penalty counts clean: the next one penalizes by the definition.
  std::vector<float> logits = {2.0f, 1.0f};
  sampler.apply_penalties(logits, std::vector<int32_t>{1});
  EXPECT_EQ(logits, (std::vector<float>{2.0f, 1.0f / 1.3f}));
}

}  // namespace
}  // namespace kiln::llm
