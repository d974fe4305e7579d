#include "llm/sampler.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "kiln/error.h"

namespace kiln::llm {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

[[noreturn]] void out_of_range(const char* field, const char* range, double value) {
  throw Error(ErrorCode::InvalidArgument,
              std::string("sampling parameter ") + field + " must be " + range + ", got " + format_number(value));
}

// 53 random bits scaled into [0, 1): exactly representable, so every platform gets the same
// number from the same generator output.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

void SamplingParams::validate() const {
  if (!(temperature >= 0.0f && temperature < kInf)) out_of_range("temperature", "finite and >= 0", temperature);
  if (top_k < 0) out_of_range("top_k", ">= 0 (0: off)", top_k);
  if (!(top_p > 0.0f && top_p <= 1.0f)) out_of_range("top_p", "in (0, 1]", top_p);
  if (!(min_p >= 0.0f && min_p <= 1.0f)) out_of_range("min_p", "in [0, 1]", min_p);
  if (!(repetition_penalty > 0.0f && repetition_penalty < kInf))
    out_of_range("repetition_penalty", "finite and > 0 (1: off)", repetition_penalty);
  if (!std::isfinite(presence_penalty)) out_of_range("presence_penalty", "finite", presence_penalty);
  if (!std::isfinite(frequency_penalty)) out_of_range("frequency_penalty", "finite", frequency_penalty);
  if (penalty_last_n < -1) out_of_range("penalty_last_n", ">= -1 (-1: the whole history)", penalty_last_n);
}

bool Sampler::ranks_before(const Candidate& a, const Candidate& b) {
  return a.value > b.value || (a.value == b.value && a.id < b.id);
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) { params_.validate(); }

std::span<const int32_t> Sampler::penalty_window(std::span<const int32_t> history) const {
  if (params_.penalty_last_n < 0) return history;
  return history.last(std::min(history.size(), static_cast<size_t>(params_.penalty_last_n)));
}

void Sampler::apply_penalties(std::span<float> logits, std::span<const int32_t> history) {
  const float repetition = params_.repetition_penalty;
  if (repetition == 1.0f && params_.presence_penalty == 0.0f && params_.frequency_penalty == 0.0f) return;
  const std::span<const int32_t> window = penalty_window(history);
  const size_t first = history.size() - window.size();
  for (size_t i = 0; i < window.size(); ++i)
    if (window[i] < 0 || static_cast<size_t>(window[i]) >= logits.size())
      throw Error(ErrorCode::InvalidArgument, "sample: history[" + std::to_string(first + i) + "] = " +
                                                  std::to_string(window[i]) + " is outside the vocabulary of " +
                                                  std::to_string(logits.size()) + " tokens");
  if (counts_.size() < logits.size()) counts_.resize(logits.size(), 0);
  for (int32_t id : window) ++counts_[id];
  // A token's first occurrence in the window applies its penalties and zeroes its count, so each
  // distinct token is penalized once and counts_ is all zero again afterwards.
  for (int32_t id : window) {
    const uint32_t count = counts_[id];
    if (count == 0) continue;
    counts_[id] = 0;
    float& logit = logits[id];
    if (repetition != 1.0f) logit = logit > 0.0f ? logit / repetition : logit * repetition;
    logit -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
  }
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  if (logits.empty()) throw Error(ErrorCode::InvalidArgument, "sample: no logits (a vocabulary of 0 tokens)");
  if (logits.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw Error(ErrorCode::InvalidArgument, "sample: " + std::to_string(logits.size()) +
                                                " logits are more than int32 token ids can name");
  apply_penalties(logits, history);

  size_t best = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i]) || logits[i] == kInf)
      throw Error(ErrorCode::Runtime, "sample: the logit of token " + std::to_string(i) + " is " +
                                          format_number(logits[i]));
    if (logits[i] > logits[best]) best = i;  // strict: the lowest id wins a tie
  }
  const float max = logits[best];
  if (max == -kInf) throw Error(ErrorCode::Runtime, "sample: every logit is -inf");
  if (params_.greedy()) return static_cast<int32_t>(best);

  // Top-k and min-p both keep the tokens above some logit, and min-p's bound does not change when
  // top-k removes tokens (both keep the top one, and renormalizing keeps ratios), so min-p runs
  // first as its equivalent logit bound: p >= min_p * p_max <=> logit >= max + T * ln(min_p).
  // Tokens below it then cost no exp.
  const float temperature = params_.temperature;
  const float floor = params_.min_p > 0.0f ? max + temperature * std::log(params_.min_p) : -kInf;
  const size_t k = static_cast<size_t>(params_.top_k);
  if (k > 0 && k < logits.size()) {
    select_top_k(logits, floor, k);
  } else {
    candidates_.reserve(logits.size());
    candidates_.clear();
    for (size_t i = 0; i < logits.size(); ++i)
      if (logits[i] >= floor) candidates_.push_back({logits[i], static_cast<int32_t>(i)});
  }

  double total = 0.0;
  for (Candidate& c : candidates_) {
    // A division, not a multiplication by 1 / T, which overflows for a denormal T and would make
    // the top token's 0 * inf a NaN.
    c.value = std::exp((c.value - max) / temperature);
    total += c.value;
  }
  if (params_.top_p < 1.0f) total = keep_top_p(total);
  return draw(total);
}

void Sampler::select_top_k(std::span<const float> logits, float floor, size_t k) {
  // A heap whose front is the worst of the best k so far. Ids rise through the scan, so a logit
  // equal to the front's loses the tie: only a strictly larger one enters.
  candidates_.clear();
  candidates_.reserve(k);
  float worst = floor;
  for (size_t i = 0; i < logits.size(); ++i) {
    const Candidate c{logits[i], static_cast<int32_t>(i)};
    if (candidates_.size() < k) {
      if (c.value < floor) continue;
      candidates_.push_back(c);
    } else if (c.value > worst) {
      std::pop_heap(candidates_.begin(), candidates_.end(), ranks_before);
      candidates_.back() = c;
    } else {
      continue;
    }
    std::push_heap(candidates_.begin(), candidates_.end(), ranks_before);
    if (candidates_.size() == k) worst = candidates_.front().value;
  }
  std::sort(candidates_.begin(), candidates_.end(), ranks_before);
}

double Sampler::keep_top_p(double total) {
  // Positive floats order as their bits do, so bucketing by the bits below the top token's 1.0
  // (32 buckets an octave, the last holding everything below 2^-64) keeps the buckets in value
  // order. Whole buckets above the one where the mass crosses top_p are kept unsorted; only the
  // crossing bucket is sorted, instead of the vocabulary.
  constexpr int kShift = 18;
  constexpr uint32_t kBuckets = 2048;
  const auto bucket_of = [](float value) {
    return std::min((std::bit_cast<uint32_t>(1.0f) - std::bit_cast<uint32_t>(value)) >> kShift, kBuckets - 1);
  };
  std::array<double, kBuckets> bucket_mass{};
  for (const Candidate& c : candidates_) bucket_mass[bucket_of(c.value)] += c.value;
  const double target = static_cast<double>(params_.top_p) * total;
  double mass = 0.0;
  uint32_t crossing = 0;
  while (crossing + 1 < kBuckets && mass + bucket_mass[crossing] < target) mass += bucket_mass[crossing++];

  crossing_.clear();
  size_t kept = 0;
  for (const Candidate& c : candidates_) {
    const uint32_t bucket = bucket_of(c.value);
    if (bucket < crossing)
      candidates_[kept++] = c;
    else if (bucket == crossing)
      crossing_.push_back(c);
  }
  candidates_.resize(kept);
  std::sort(crossing_.begin(), crossing_.end(), ranks_before);
  for (const Candidate& c : crossing_) {
    candidates_.push_back(c);
    mass += c.value;
    if (mass >= target) break;
  }
  return mass;
}

int32_t Sampler::draw(double total) {
  const double r = uniform(rng_) * total;
  double cumulative = 0.0;
  int32_t last_possible = candidates_.front().id;
  for (const Candidate& c : candidates_) {
    cumulative += c.value;
    if (cumulative > r) return c.id;
    if (c.value > 0.0f) last_possible = c.id;
  }
  return last_possible;  // r rounded up to the total
}

}  // namespace kiln::llm
