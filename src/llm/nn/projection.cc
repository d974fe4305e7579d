#include "llm/nn/projection.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "kernels/cpu/packed_int_weights.h"
#include "kernels/cpu/sgemm.h"
#include "kernels/cpu/weight_gemv.h"
#include "kernels/cpu/weight_quantize.h"

namespace kiln::llm::nn {
namespace {

using kernels::WeightFormat;

// Decode steps and small batches stream W once; more rows amortize dequantizing it.
constexpr int64_t kGemvMaxRows = 8;
// Floats of dequantized W per slice of the prefill path: 8 MB keeps a slice in L3.
constexpr int64_t kSliceFloats = int64_t{2} << 20;

}  // namespace

WeightFormat float_weight_format(DType dtype) {
  switch (dtype) {
    case DType::Float32: return WeightFormat::F32;
    case DType::Float16: return WeightFormat::F16;
    case DType::BFloat16: return WeightFormat::BF16;
    default:
      throw Error(ErrorCode::InvalidArgument, std::string("projection weights must be floating point, not ") +
                                                  dtype_name(dtype));
  }
}

namespace {

void append_as_float(const Tensor& t, std::vector<float>& out) {
  const int64_t n = t.numel();
  const size_t at = out.size();
  out.resize(at + static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[at + static_cast<size_t>(i)] = static_cast<float>(t.value_as_double(i));
}

}  // namespace

void Projection::build(CpuLevel level, const std::vector<const Parameter*>& weights,
                       const std::vector<const Tensor*>& biases, WeightQuant quant) {
  *this = Projection();
  if (std::any_of(weights.begin(), weights.end(), [](const Parameter* w) { return w->dtype() == DType::Undefined; }))
    return;
  level_ = level;
  in_ = weights.front()->shape()[1];
  std::vector<int64_t> rows;
  for (const Parameter* w : weights) rows.push_back(w->shape()[0]);
  out_ = std::accumulate(rows.begin(), rows.end(), int64_t{0});
  if (!build_from_codes(weights, quant)) {
    std::vector<const Tensor*> values;
    for (const Parameter* w : weights) values.push_back(&w->value());
    build_from_values(values, quant);
  }
  if (std::any_of(biases.begin(), biases.end(), [](const Tensor* b) { return b->defined(); })) {
    for (size_t i = 0; i < weights.size(); ++i) {
      if (biases[i]->defined())
        append_as_float(*biases[i], bias_);
      else
        bias_.resize(bias_.size() + static_cast<size_t>(rows[i]), 0.f);
    }
  }
}

bool Projection::build_from_codes(const std::vector<const Parameter*>& weights, WeightQuant quant) {
  if (quant.kind == WeightQuant::Float) return false;
  const WeightFormat format = quant.kind == WeightQuant::Int8 ? WeightFormat::Int8 : WeightFormat::Int4;
  const int64_t group = quant.group ? quant.group : quant.kind == WeightQuant::Int8 ? in_ : 32;
  std::vector<StoredCodes> stored;
  for (const Parameter* w : weights) {
    std::optional<StoredCodes> codes = w->stored_codes();
    if (!codes || codes->format != format || codes->group != group) return false;
    stored.push_back(std::move(*codes));
  }
  const int64_t row_bytes = kernels::weight_row_bytes(format, in_);
  stored_.resize_discarding(static_cast<size_t>(out_ * row_bytes));
  scales_.resize_discarding(static_cast<size_t>(out_ * (in_ / group)));
  int64_t first = 0;
  for (const StoredCodes& c : stored) {
    if (c.cols != in_ || c.codes.size() != static_cast<size_t>(c.rows * row_bytes) ||
        c.scales.size() != static_cast<size_t>(c.rows * (in_ / group)))
      throw Error(ErrorCode::InvalidArgument, "stored codes of " + std::to_string(c.rows) + "x" + std::to_string(c.cols) +
                                                  " hold " + std::to_string(c.codes.size()) + " bytes and " +
                                                  std::to_string(c.scales.size()) + " scales, not a " +
                                                  std::to_string(c.rows) + "x" + std::to_string(in_) + " matrix's");
    uint8_t* q = stored_.data() + first * row_bytes;
    float* s = scales_.data() + first * (in_ / group);
    std::copy(c.codes.begin(), c.codes.end(), q);
    std::copy(c.scales.begin(), c.scales.end(), s);
    segments_.push_back({{.format = format, .rows = c.rows, .cols = in_, .group = group, .data = q, .scales = s}, first});
    first += c.rows;
  }
  finish_quantized(format, group);
  return true;
}

void Projection::build_from_values(const std::vector<const Tensor*>& weights, WeightQuant quant) {
  int64_t group = quant.group ? quant.group : quant.kind == WeightQuant::Int8 ? in_ : 32;
  if (quant.kind != WeightQuant::Float && group != in_ && group % 32 == 0 && in_ % group != 0) {
    // Rows that the groups cannot tile (TinyLlama-style SwiGLU widths are multiples of 32, but
    // not every model's are) keep 8 bits per weight with one scale per row, as llama.cpp falls
    // back for such tensors.
    quant = {WeightQuant::Int8, 0};
    group = in_;
  }
  const bool whole_rows = quant.kind == WeightQuant::Int8 && group == in_;
  if (quant.kind != WeightQuant::Float && !whole_rows && (group < 32 || group % 32 || in_ % group))
    throw Error(ErrorCode::InvalidArgument, std::string(quant.kind == WeightQuant::Int4 ? "int4" : "int8") +
                                                " groups of " + std::to_string(group) + " do not tile rows of " +
                                                std::to_string(in_) + " inputs (groups are multiples of 32)");
  const WeightFormat format = quant.kind == WeightQuant::Int8   ? WeightFormat::Int8
                              : quant.kind == WeightQuant::Int4 ? WeightFormat::Int4
                                                                : WeightFormat::F32;
  const DType dtype = weights.front()->dtype();
  const bool packs_half = quant.kind == WeightQuant::Float && level_ == CpuLevel::Avx512 &&
                          (dtype == DType::Float16 || dtype == DType::BFloat16) &&
                          std::all_of(weights.begin(), weights.end(), [&](const Tensor* w) { return w->dtype() == dtype; });
  // Parameters may be views of a checkpoint's file mapping (nn::Module loads without copying),
  // whose 4 KB pages would make every weight row of decode a TLB miss: weights that are computed
  // with as they are get copied onto buffers of their own (2 MB pages, core/aligned_alloc.cc).
  // The half-precision packer reads them once and needs no copy.
  if (quant.kind != WeightQuant::Float) {
    stored_.resize_discarding(static_cast<size_t>(out_ * kernels::weight_row_bytes(format, in_)));
    scales_.resize_discarding(static_cast<size_t>(out_ * (in_ / group)));
  } else if (!packs_half) {
    size_t bytes = 0;
    for (const Tensor* w : weights) bytes += w->nbytes();
    stored_.resize_discarding(bytes);
  }
  std::vector<float> row(static_cast<size_t>(in_));
  int64_t first = 0;
  size_t stored_at = 0;
  for (const Tensor* w : weights) {
    const int64_t rows = w->dim(0);
    const kernels::WeightMatrixView source{.format = float_weight_format(w->dtype()), .rows = rows, .cols = in_, .data = w->raw()};
    kernels::WeightMatrixView view = source;
    if (quant.kind == WeightQuant::Float && !packs_half) {
      view.data = std::memcpy(stored_.data() + stored_at, w->raw(), w->nbytes());
      stored_at += w->nbytes();
    } else if (quant.kind != WeightQuant::Float) {
      const int64_t row_bytes = kernels::weight_row_bytes(format, in_);
      uint8_t* q = stored_.data() + first * row_bytes;
      float* s = scales_.data() + first * (in_ / group);
      for (int64_t r = 0; r < rows; ++r) {
        kernels::dequantize_rows(level_, source, r, 1, row.data(), in_);
        if (format == WeightFormat::Int8)
          kernels::quantize_int8_row(row.data(), in_, group, reinterpret_cast<int8_t*>(q + r * row_bytes), s + r * (in_ / group));
        else
          kernels::quantize_int4_row(row.data(), in_, group, q + r * row_bytes, s + r * (in_ / group));
      }
      view = {.format = format, .rows = rows, .cols = in_, .group = group, .data = q, .scales = s};
    }
    segments_.push_back({view, first});
    first += rows;
  }
  if (quant.kind != WeightQuant::Float) finish_quantized(format, group);
  if (packs_half) {
    std::vector<kernels::WeightMatrixView> views;
    for (const Segment& s : segments_) views.push_back(s.weights);
    half_ = kernels::pack_half_weights(views);
    segments_.clear();
  }
}

void Projection::finish_quantized(WeightFormat format, int64_t group) {
  // Float16 scales, as GGUF stores them and the packed kernel reads them, at every level alike.
  kernels::round_scales_to_float16(scales_.data(), static_cast<int64_t>(scales_.size()));
  if (level_ != CpuLevel::Avx512) return;
  // One packed matrix for every segment: they share inputs and format, so x is quantized once.
  packed_ = kernels::pack_int_weights(
      {.format = format, .rows = out_, .cols = in_, .group = group, .data = stored_.data(), .scales = scales_.data()});
  segments_.clear();
  stored_ = {};
  scales_ = {};
}

int64_t Projection::weight_bytes() const {
  int64_t bytes = packed_.bytes() + half_.bytes();
  for (const Segment& s : segments_)
    bytes += s.weights.rows * kernels::weight_row_bytes(s.weights.format, in_) +
             (s.weights.scales ? s.weights.rows * (in_ / s.weights.group) * 4 : 0);
  return bytes;
}

void Projection::apply(const float* x, int64_t ldx, int64_t rows, float* y, int64_t ldy, bool accumulate,
                       ThreadPool& pool) const {
  const kernels::GemvArgs every_output{.x = x, .ldx = ldx, .x_rows = rows, .y = y, .ldy = ldy,
                                       .bias = bias_.empty() ? nullptr : bias_.data(), .accumulate = accumulate};
  if (packed_.rows > 0) return kernels::packed_int_matmul(packed_, every_output, pool);
  if (rows > kGemvMaxRows) return apply_gemm(x, ldx, rows, y, ldy, accumulate, pool);
  if (half_.rows > 0) return kernels::packed_half_gemv(half_, every_output, pool);
  for (const Segment& s : segments_) {
    const kernels::GemvArgs args{.x = x,
                                 .ldx = ldx,
                                 .x_rows = rows,
                                 .y = y + s.first_output,
                                 .ldy = ldy,
                                 .bias = bias_.empty() ? nullptr : bias_.data() + s.first_output,
                                 .accumulate = accumulate};
    kernels::weight_gemv(level_, s.weights, args, pool);
  }
}

void Projection::apply_gemm(const float* x, int64_t ldx, int64_t rows, float* y, int64_t ldy, bool accumulate,
                            ThreadPool& pool) const {
  const auto packed_x = kernels::PackedMatrix::pack_a(level_, rows, in_, kernels::MatrixView{x, ldx, false});
  const int64_t slice_rows = std::max<int64_t>(64, kSliceFloats / in_ / 64 * 64);
  // Kept between calls, as prefill slices are megabytes; the workers fill the caller's copy.
  thread_local AlignedBuffer<float> callers_slice;
  AlignedBuffer<float>& slice = callers_slice;
  // B = W^T, the [in, n] operand whose element (k, j) is W[j][k], for outputs from `first_output`.
  const auto gemm = [&](const kernels::MatrixView& b, int64_t first_output, int64_t n) {
    kernels::GemmEpilogue epilogue;
    epilogue.accumulate = accumulate;
    epilogue.col_bias = bias_.empty() ? nullptr : bias_.data() + first_output;
    kernels::sgemm(level_, rows, n, in_, &packed_x, b, y + first_output, ldy, epilogue, &pool);
  };
  if (half_.rows > 0) {
    // Whole panels converted as they are: k-major, kPanel columns of B each.
    constexpr int64_t kPanel = kernels::PackedHalfWeights::kPanel;
    static_assert(64 % kPanel == 0, "slices of a multiple of 64 outputs start on a panel");
    for (int64_t j0 = 0; j0 < half_.rows; j0 += slice_rows) {
      const int64_t n = std::min(slice_rows, half_.rows - j0), panels = (n + kPanel - 1) / kPanel;
      slice.resize_discarding(static_cast<size_t>(panels * kPanel * in_));
      pool.parallel_for(panels, [&](int64_t p0, int64_t p1) {
        kernels::unpack_half_panels(half_, j0 / kPanel + p0, p1 - p0, slice.data() + p0 * kPanel, panels * kPanel);
      });
      gemm({slice.data(), panels * kPanel, false}, j0, n);
    }
    return;
  }
  for (const Segment& s : segments_) {
    for (int64_t j0 = 0; j0 < s.weights.rows; j0 += slice_rows) {
      const int64_t n = std::min(slice_rows, s.weights.rows - j0);
      if (s.weights.format == WeightFormat::F32) {
        gemm({static_cast<const float*>(s.weights.data) + j0 * in_, in_, true}, s.first_output + j0, n);
        continue;
      }
      slice.resize_discarding(static_cast<size_t>(n * in_));
      pool.parallel_for(n, [&](int64_t r0, int64_t r1) {
        kernels::dequantize_rows(level_, s.weights, j0 + r0, r1 - r0, slice.data() + r0 * in_, in_);
      }, 16);
      gemm({slice.data(), in_, true}, s.first_output + j0, n);
    }
  }
}

}  // namespace kiln::llm::nn
