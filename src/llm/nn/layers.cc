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

void Linear::prepare_self(const PrepareOptions& options, WeightStore& weights) {
  if (packing_ == Packing::Parent) return;
  projection_.build(options.level, {&weight_}, {bias_}, options.quant, weights);
}

void Linear::forward(const float* x, int64_t ldx, int64_t rows, float* y, bool accumulate, ThreadPool& pool) const {
  projection_.apply(x, ldx, rows, y, projection_.out(), accumulate, pool);
}

Embedding::Embedding(int64_t vocab, int64_t hidden) : weight_(register_parameter("weight", {vocab, hidden})) {}

void Embedding::prepare_self(const PrepareOptions&, WeightStore& weights) {
  table_ = {};
  if (weight_.dtype() == DType::Undefined) return;
  format_ = float_weight_format(weight_.dtype());
  table_ = weights.view("table", shape_numel(weight_.shape()) * dtype_size(weight_.dtype()), [&] {
    const Tensor& table = weight_.value();
    return PreparedWeights(static_cast<const std::byte*>(table.raw()), table.nbytes(), table.owner());
  });
}

void Embedding::forward(const std::vector<int32_t>& tokens, float* out) const {
  const int64_t vocab = weight_.shape()[0], hidden = weight_.shape()[1];
  const kernels::WeightMatrixView view{.format = format_, .rows = vocab, .cols = hidden, .data = table_.data()};
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

void RmsNorm::prepare_self(const PrepareOptions&, WeightStore& weights) {
  scale_ = {};
  if (weight_.dtype() == DType::Undefined) return;
  scale_ = weights.get("scale", static_cast<size_t>(weight_.shape()[0]) * sizeof(float), [&](std::byte* out) {
    const Tensor& weight = weight_.value();
    for (int64_t i = 0; i < weight.numel(); ++i) reinterpret_cast<float*>(out)[i] = element_as_float(weight, i);
  });
}

void RmsNorm::forward(const float* x, int64_t rows, float* y) const {
  const int64_t cols = static_cast<int64_t>(scale_.count<float>());
  if (const kernels::VecIsa* isa = kernels::vec_isa(level()))
    isa->rms_norm_rows(x, y, rows, cols, scale_.as<float>(), epsilon_);
  else
    kernels::rms_norm_ref(x, y, rows, cols, scale_.as<float>(), epsilon_);
}

}  // namespace kiln::llm::nn
