// The leaf modules of a Llama-family decoder, each owning its parameters under torch's names:
// Linear (weight [out, in], optional bias), Embedding (weight [vocab, hidden]) and RmsNorm
// (weight [hidden]). Their forward passes work on row-major float rows.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "llm/nn/module.h"
#include "llm/nn/projection.h"

namespace kiln::llm::nn {

// Who packs a Linear's weight for the GEMM: the layer itself, or its parent, which fuses it with
// siblings that read the same input (Projection's fused form).
enum class Packing { Self, Parent };

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, Packing packing = Packing::Self);
  const Tensor& weight() const { return weight_.value(); }
  const Parameter& weight_parameter() const { return weight_; }
  const Tensor& bias() const { return bias_ ? bias_->value() : undefined_; }  // undefined without a bias
  const Parameter* bias_parameter() const { return bias_; }                    // null without a bias
  // y [rows, out] = (or += with `accumulate`) x W^T + b, row r of x at x + r * ldx (ldx >= in).
  // Packing::Self only.
  void forward(const float* x, int64_t ldx, int64_t rows, float* y, bool accumulate, ThreadPool& pool) const;

 private:
  void prepare_self(const PrepareOptions& options, WeightStore& weights) override;

  Parameter& weight_;
  Parameter* bias_ = nullptr;
  Tensor undefined_;
  Packing packing_;
  Projection projection_;
};

class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t hidden);
  const Tensor& weight() const { return weight_.value(); }
  const Parameter& weight_parameter() const { return weight_; }
  // Row t of `out` [tokens.size(), hidden] = the embedding of tokens[t]; Error(InvalidArgument)
  // naming the token for an id outside [0, vocab).
  void forward(const std::vector<int32_t>& tokens, float* out) const;

 private:
  void prepare_self(const PrepareOptions& options, WeightStore& weights) override;

  Parameter& weight_;
  // The weight as stored, read in place: a lookup touches a row per token, so it needs no copy
  // (it may be a view of a checkpoint's mapping).
  PreparedWeights table_;
  kernels::WeightFormat format_ = kernels::WeightFormat::F32;
};

class RmsNorm : public Module {
 public:
  RmsNorm(int64_t hidden, double epsilon);
  // Each of `rows` rows divided by its root mean square, times the weight.
  void forward(const float* x, int64_t rows, float* y) const;

 private:
  void prepare_self(const PrepareOptions& options, WeightStore& weights) override;

  Parameter& weight_;
  float epsilon_;
  PreparedWeights scale_;  // the weight as float
};

}  // namespace kiln::llm::nn
