// Picks the next token from one position's logits. The chain, in this order:
//
//   penalties (repetition, presence, frequency over the last penalty_last_n history tokens)
//   -> greedy shortcut (temperature 0: the argmax, lowest id on ties)
//   -> top-k -> temperature -> softmax -> min-p -> top-p (over what min-p kept, renormalized)
//   -> one draw from what is left
//
// Reproducibility: the generator is std::mt19937_64 seeded with `seed`, whose output sequence the
// C++ standard fixes, turned into a uniform number by Kiln's own conversion (not
// std::uniform_real_distribution, whose output the standard leaves to the library); every
// ordering uses a total order (probability, then id) and every sum runs in an order that does not
// depend on the standard library's sort. So a fixed seed, the same params and the same logits
// give the same ids across runs, builds and platforms, as far as std::exp rounds alike (it
// does within one libm; a different libm could move a draw that lands within an ulp of a
// boundary).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "kiln/llm_types.h"

namespace kiln::llm {

class Sampler {
 public:
  // Validates `params` (see SamplingParams::validate).
  explicit Sampler(const SamplingParams& params);

  const SamplingParams& params() const { return params_; }

  // The next token id in [0, logits.size()). `history`: the ids so far (prompt and generated, as
  // the caller wants the penalties to see them), oldest first. `logits` is scratch, changed in
  // place. Error(InvalidArgument) for empty logits, or for an id outside the vocabulary in the
  // part of the history the penalties read; Error(Runtime) naming the token for a NaN or +inf
  // logit, and when every logit is -inf.
  int32_t sample(std::span<float> logits, std::span<const int32_t> history);

  // The penalty step alone, in place. Over the window's distinct tokens, with c a token's count
  // in the window: repetition as in Transformers and llama.cpp (a positive logit divided by
  // repetition_penalty, a negative one multiplied, once per token whatever c), then OpenAI's
  // logit -= c * frequency_penalty + presence_penalty.
  void apply_penalties(std::span<float> logits, std::span<const int32_t> history);

 private:
  struct Candidate {
    float value;  // the logit, then exp((logit - max) / temperature)
    int32_t id;
  };

  // Descending value, then ascending id: a total order, so the kept set and its order (and with
  // them every sum) do not depend on how the library's heap and sort arrange ties.
  static bool ranks_before(const Candidate& a, const Candidate& b);
  std::span<const int32_t> penalty_window(std::span<const int32_t> history) const;
  // The k best logits at or above `floor` into candidates_, in ranks_before order.
  void select_top_k(std::span<const float> logits, float floor, size_t k);
  // Keeps the shortest prefix in ranks_before order whose mass reaches top_p of `total`, sorting
  // only the tokens around its end; returns the mass kept.
  double keep_top_p(double total);
  // One token from the candidates in proportion to their values, which sum to `total`.
  int32_t draw(double total);

  SamplingParams params_;
  std::mt19937_64 rng_;
  // Scratch reused so that sampling does not allocate once warm.
  std::vector<Candidate> candidates_;
  std::vector<Candidate> crossing_;  // keep_top_p's bucket around the end of the kept prefix
  std::vector<uint32_t> counts_;     // per vocabulary id, all zero between calls
};

}  // namespace kiln::llm
