#include "llm/nn/projection.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "core/aligned_buffer.h"
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

const char* weight_quant_name(WeightQuant::Kind kind) {
  switch (kind) {
    case WeightQuant::Float: return "none";
    case WeightQuant::Int8: return "int8";
    case WeightQuant::Int4: return "int4";
  }
  return "unknown";
}

WeightQuant::Kind parse_weight_quant(std::string_view name, std::string_view what) {
  for (WeightQuant::Kind kind : {WeightQuant::Float, WeightQuant::Int8, WeightQuant::Int4})
    if (name == weight_quant_name(kind)) return kind;
  throw Error(ErrorCode::InvalidArgument,
              std::string(what) + " must be none, int8 or int4, got '" + std::string(name) + "'");
}

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

void write_as_float(const Tensor& t, float* out) {
  for (int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<float>(t.value_as_double(i));
}

size_t bytes_of(int64_t count, size_t element) {
  if (count < 0) throw Error(ErrorCode::InvalidArgument, "projection of negative size");
  return static_cast<size_t>(count) * element;
}

}  // namespace

void Projection::build(CpuLevel level, const std::vector<const Parameter*>& weights,
                       const std::vector<const Parameter*>& biases, WeightQuant quant, WeightStore& store) {
  *this = Projection();
  if (std::any_of(weights.begin(), weights.end(), [](const Parameter* w) { return w->dtype() == DType::Undefined; }))
    return;
  level_ = level;
  in_ = weights.front()->shape()[1];
  for (const Parameter* w : weights) out_ += w->shape()[0];
  quant.kind == WeightQuant::Float ? build_float(weights, store) : build_quantized(weights, quant, store);
  if (std::none_of(biases.begin(), biases.end(), [](const Parameter* b) { return b && b->dtype() != DType::Undefined; }))
    return;
  bias_ = store.get("bias", bytes_of(out_, sizeof(float)), [&](std::byte* out) {
    float* b = reinterpret_cast<float*>(out);
    for (size_t i = 0; i < weights.size(); ++i) {
      if (biases[i] && biases[i]->dtype() != DType::Undefined) write_as_float(biases[i]->value(), b);
      b += weights[i]->shape()[0];
    }
  });
}

void Projection::build_float(const std::vector<const Parameter*>& weights, WeightStore& store) {
  const DType dtype = weights.front()->dtype();
  const bool packs_half = level_ == CpuLevel::Avx512 && (dtype == DType::Float16 || dtype == DType::BFloat16) &&
                          std::all_of(weights.begin(), weights.end(), [&](const Parameter* w) { return w->dtype() == dtype; });
  if (packs_half) {
    half_ = kernels::packed_half_layout(float_weight_format(dtype), out_, in_);
    half_.data = store.get("packed", static_cast<size_t>(half_.bytes()), [&](std::byte* out) {
      std::vector<kernels::WeightMatrixView> views;
      for (const Parameter* w : weights)
        views.push_back({.format = half_.format, .rows = w->shape()[0], .cols = in_, .data = w->value().raw()});
      kernels::pack_half_weights_into(views, half_, reinterpret_cast<uint16_t*>(out));
    });
    return;
  }
  // Parameters may be views of a checkpoint's file mapping (nn::Module loads without copying),
  // whose 4 KB pages would make every weight row of decode a TLB miss: weights that are computed
  // with as they are get copied onto buffers of their own (2 MB pages, core/aligned_alloc.cc).
  size_t bytes = 0;
  for (const Parameter* w : weights)
    bytes += bytes_of(w->shape()[0] * kernels::weight_row_bytes(float_weight_format(w->dtype()), in_), 1);
  weights_ = store.get("weights", bytes, [&](std::byte* out) {
    for (const Parameter* w : weights) out = static_cast<std::byte*>(std::memcpy(out, w->value().raw(), w->value().nbytes())) + w->value().nbytes();
  });
  const std::byte* at = weights_.data();
  int64_t first = 0;
  for (const Parameter* w : weights) {
    const kernels::WeightFormat format = float_weight_format(w->dtype());
    segments_.push_back({{.format = format, .rows = w->shape()[0], .cols = in_, .data = at}, first});
    at += w->shape()[0] * kernels::weight_row_bytes(format, in_);
    first += w->shape()[0];
  }
}

namespace {

// Fills codes [out, row_bytes] and scales [out, in / group] for the weights in `format`: from the
// codes their source stores when every weight has them in that format and group, else by
// quantizing their values. Then rounds the scales to float16, as GGUF stores them and the packed
// kernel reads them, at every level alike.
void quantize_weights(CpuLevel level, const std::vector<const Parameter*>& weights, WeightFormat format, int64_t in,
                      int64_t group, uint8_t* codes, float* scales) {
  const int64_t row_bytes = kernels::weight_row_bytes(format, in), groups = in / group;
  std::vector<StoredCodes> stored;
  for (const Parameter* w : weights) {
    std::optional<StoredCodes> c = w->stored_codes();
    if (!c || c->format != format || c->group != group) break;
    stored.push_back(std::move(*c));
  }
  int64_t first = 0, out = 0;
  for (const Parameter* w : weights) out += w->shape()[0];
  if (stored.size() == weights.size()) {
    for (const StoredCodes& c : stored) {
      if (c.cols != in || c.codes.size() != static_cast<size_t>(c.rows * row_bytes) ||
          c.scales.size() != static_cast<size_t>(c.rows * groups))
        throw Error(ErrorCode::InvalidArgument, "stored codes of " + std::to_string(c.rows) + "x" + std::to_string(c.cols) +
                                                    " hold " + std::to_string(c.codes.size()) + " bytes and " +
                                                    std::to_string(c.scales.size()) + " scales, not a " +
                                                    std::to_string(c.rows) + "x" + std::to_string(in) + " matrix's");
      std::copy(c.codes.begin(), c.codes.end(), codes + first * row_bytes);
      std::copy(c.scales.begin(), c.scales.end(), scales + first * groups);
      first += c.rows;
    }
  } else {
    std::vector<float> row(static_cast<size_t>(in));
    for (const Parameter* w : weights) {
      const Tensor& value = w->value();
      const kernels::WeightMatrixView source{
          .format = float_weight_format(value.dtype()), .rows = value.dim(0), .cols = in, .data = value.raw()};
      for (int64_t r = 0; r < source.rows; ++r) {
        kernels::dequantize_rows(level, source, r, 1, row.data(), in);
        uint8_t* q = codes + (first + r) * row_bytes;
        float* s = scales + (first + r) * groups;
        if (format == WeightFormat::Int8)
          kernels::quantize_int8_row(row.data(), in, group, reinterpret_cast<int8_t*>(q), s);
        else
          kernels::quantize_int4_row(row.data(), in, group, q, s);
      }
      first += source.rows;
    }
  }
  kernels::round_scales_to_float16(scales, out * groups);
}

}  // namespace

void Projection::build_quantized(const std::vector<const Parameter*>& weights, WeightQuant quant, WeightStore& store) {
  int64_t group = quant.group ? quant.group : quant.kind == WeightQuant::Int8 ? in_ : 32;
  if (group != in_ && group % 32 == 0 && in_ % group != 0) {
    // Rows that the groups cannot tile (TinyLlama-style SwiGLU widths are multiples of 32, but
    // not every model's are) keep 8 bits per weight with one scale per row, as llama.cpp falls
    // back for such tensors.
    quant = {WeightQuant::Int8, 0};
    group = in_;
  }
  const bool whole_rows = quant.kind == WeightQuant::Int8 && group == in_;
  if (!whole_rows && (group < 32 || group % 32 || in_ % group))
    throw Error(ErrorCode::InvalidArgument, std::string(quant.kind == WeightQuant::Int4 ? "int4" : "int8") +
                                                " groups of " + std::to_string(group) + " do not tile rows of " +
                                                std::to_string(in_) + " inputs (groups are multiples of 32)");
  const WeightFormat format = quant.kind == WeightQuant::Int8 ? WeightFormat::Int8 : WeightFormat::Int4;
  const int64_t row_bytes = kernels::weight_row_bytes(format, in_), groups = in_ / group;
  const size_t codes_bytes = bytes_of(out_ * row_bytes, 1), scales_bytes = bytes_of(out_ * groups, sizeof(float));
  if (level_ == CpuLevel::Avx512) {
    // One packed matrix for every weight: they share inputs and format, so x is quantized once.
    packed_ = kernels::packed_int_layout(format, out_, in_, group);
    packed_.data = store.get("packed", static_cast<size_t>(packed_.bytes()), [&](std::byte* out) {
      std::vector<uint8_t> codes(codes_bytes);
      std::vector<float> scales(scales_bytes / sizeof(float));
      quantize_weights(level_, weights, format, in_, group, codes.data(), scales.data());
      kernels::pack_int_weights_into(
          {.format = format, .rows = out_, .cols = in_, .group = group, .data = codes.data(), .scales = scales.data()},
          packed_, reinterpret_cast<uint8_t*>(out));
    });
    return;
  }
  // Codes, then the scales on the next cache line.
  const size_t scales_at = (codes_bytes + 63) / 64 * 64;
  weights_ = store.get("weights", scales_at + scales_bytes, [&](std::byte* out) {
    quantize_weights(level_, weights, format, in_, group, reinterpret_cast<uint8_t*>(out),
                     reinterpret_cast<float*>(out + scales_at));
  });
  const auto* codes = weights_.as<uint8_t>();
  const auto* scales = reinterpret_cast<const float*>(weights_.data() + scales_at);
  int64_t first = 0;
  for (const Parameter* w : weights) {
    const int64_t rows = w->shape()[0];
    segments_.push_back({{.format = format, .rows = rows, .cols = in_, .group = group,
                          .data = codes + first * row_bytes, .scales = scales + first * groups},
                         first});
    first += rows;
  }
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
                                       .bias = bias_.empty() ? nullptr : bias_.as<float>(), .accumulate = accumulate};
  if (packed_.rows > 0) return kernels::packed_int_matmul(packed_, every_output, pool);
  if (rows > kGemvMaxRows) return apply_gemm(x, ldx, rows, y, ldy, accumulate, pool);
  if (half_.rows > 0) return kernels::packed_half_gemv(half_, every_output, pool);
  for (const Segment& s : segments_) {
    const kernels::GemvArgs args{.x = x,
                                 .ldx = ldx,
                                 .x_rows = rows,
                                 .y = y + s.first_output,
                                 .ldy = ldy,
                                 .bias = bias_.empty() ? nullptr : bias_.as<float>() + s.first_output,
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
    epilogue.col_bias = bias_.empty() ? nullptr : bias_.as<float>() + first_output;
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
