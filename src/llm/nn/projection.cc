#include "llm/nn/projection.h"

#include <algorithm>


namespace kiln::llm::nn {
namespace {

// The tensor's elements as floats into `out`.
void append_as_float(const Tensor& t, std::vector<float>& out) {
  const int64_t n = t.numel();
  const size_t at = out.size();
  out.resize(at + static_cast<size_t>(n));
  float* dst = out.data() + at;
  switch (t.dtype()) {
    case DType::Float32: std::copy_n(t.data<float>(), n, dst); return;
    case DType::Float16: std::transform(t.data<Float16>(), t.data<Float16>() + n, dst, [](Float16 h) { return to_float(h); }); return;
    case DType::BFloat16: std::transform(t.data<BFloat16>(), t.data<BFloat16>() + n, dst, [](BFloat16 h) { return to_float(h); }); return;
    default: throw Error(ErrorCode::InvalidArgument, std::string("projection weights must be floating point, not ") + dtype_name(t.dtype()));
  }
}

}  // namespace

void Projection::build(CpuLevel level, const std::vector<const Tensor*>& weights, const std::vector<const Tensor*>& biases) {
  *this = Projection();
  if (std::any_of(weights.begin(), weights.end(), [](const Tensor* w) { return !w->defined(); })) return;
  std::vector<float> rows;
  int64_t out = 0;
  for (const Tensor* w : weights) {
    append_as_float(*w, rows);
    out += w->dim(0);
  }
  const int64_t in = weights.front()->dim(1);
  if (std::any_of(biases.begin(), biases.end(), [](const Tensor* b) { return b->defined(); })) {
    for (size_t i = 0; i < weights.size(); ++i) {
      if (biases[i]->defined())
        append_as_float(*biases[i], bias_);
      else
        bias_.resize(bias_.size() + static_cast<size_t>(weights[i]->dim(0)), 0.f);
    }
  }
  // B = W^T: element (k, j) of the [in, out] operand is W[j][k].
  packed_ = kernels::PackedMatrix::pack_b(level, in, out, kernels::MatrixView{rows.data(), in, true});
  level_ = level;
  in_ = in;
  out_ = out;
}

void Projection::apply(const float* x, int64_t ldx, int64_t rows, float* y, int64_t ldy, bool accumulate,
                       ThreadPool& pool) const {
  kernels::GemmEpilogue epilogue;
  epilogue.accumulate = accumulate;
  epilogue.col_bias = bias_.empty() ? nullptr : bias_.data();
  kernels::sgemm(level_, rows, out_, in_, kernels::MatrixView{x, ldx, false}, &packed_, y, ldy, epilogue, &pool);
}

}  // namespace kiln::llm::nn
