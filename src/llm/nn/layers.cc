#include "llm/nn/layers.h"

#include <string>

#include "kernels/cpu/norm_ref.h"
#include "kernels/cpu/weight_gemv.h"
#include "kernels/cpu/vec_isa.h"

namespace kiln::llm::nn {
namespace {

float element_as_float(const Tensor& t, int64_t i) { return static_cast<float>(t.value_as_double(i)); }

}  // namespace

Linear::Linear(int64_t in, int64_t out, bool bias, Packing packing)
    : weight_(register_parameter("weight", {out, in})), packing_(packing) {
  if (bias) bias_ = &register_parameter("bias", {out});
}

void Linear::prepare_self(const PrepareOptions& options) {
  if (packing_ == Packing::Parent) return;
  projection_.build(options.level, {&weight_}, bias_ ? std::vector<const Tensor*>{&bias()} : std::vector<const Tensor*>{},
                    options.quant);
}

void Linear::forward(const float* x, int64_t ldx, int64_t rows, float* y, bool accumulate, ThreadPool& pool) const {
  projection_.apply(x, ldx, rows, y, projection_.out(), accumulate, pool);
}

Embedding::Embedding(int64_t vocab, int64_t hidden) : weight_(register_parameter("weight", {vocab, hidden})) {}

void Embedding::prepare_self(const PrepareOptions&) { table_ = weight_.value(); }

void Embedding::forward(const std::vector<int32_t>& tokens, float* out) const {
  const int64_t vocab = table_.dim(0), hidden = table_.dim(1);
  const kernels::WeightMatrixView view{
      .format = float_weight_format(table_.dtype()), .rows = vocab, .cols = hidden, .data = table_.raw()};
  for (size_t t = 0; t < tokens.size(); ++t) {
    const int64_t id = tokens[t];
    if (id < 0 || id >= vocab)
      throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(id) + " at position " + std::to_string(t) +
                                                  " is outside the vocabulary of " + std::to_string(vocab));
    kernels::dequantize_rows(level(), view, id, 1, out + static_cast<int64_t>(t) * hidden, hidden);
  }
}

RmsNorm::RmsNorm(int64_t hidden, double epsilon)
    : weight_(register_parameter("weight", {hidden})), epsilon_(static_cast<float>(epsilon)) {}

void RmsNorm::prepare_self(const PrepareOptions&) {
  scale_.clear();
  const Tensor& weight = weight_.value();
  if (!weight.defined()) return;
  for (int64_t i = 0; i < weight.numel(); ++i) scale_.push_back(element_as_float(weight, i));
}

void RmsNorm::forward(const float* x, int64_t rows, float* y) const {
  const int64_t cols = static_cast<int64_t>(scale_.size());
  if (const kernels::VecIsa* isa = kernels::vec_isa(level()))
    isa->rms_norm_rows(x, y, rows, cols, scale_.data(), epsilon_);
  else
    kernels::rms_norm_ref(x, y, rows, cols, scale_.data(), epsilon_);
}

}  // namespace kiln::llm::nn
