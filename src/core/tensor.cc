#include "kiln/tensor.h"

#include "core/aligned_alloc.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace kiln {
namespace {

std::shared_ptr<void> allocate_aligned(size_t bytes) {
  try {
    return std::shared_ptr<void>(aligned_allocate(bytes), [bytes](void* q) { aligned_free(q, bytes); });
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::Runtime, "out of memory allocating " + std::to_string(bytes) + " bytes");
  }
}

template <class F>
auto visit_numeric(DType t, const void* data, int64_t i, F&& f) {
  switch (t) {
    case DType::Float32: return f(static_cast<const float*>(data)[i]);
    case DType::Float64: return f(static_cast<const double*>(data)[i]);
    case DType::Int8: return f(static_cast<const int8_t*>(data)[i]);
    case DType::UInt8: return f(static_cast<const uint8_t*>(data)[i]);
    case DType::Int16: return f(static_cast<const int16_t*>(data)[i]);
    case DType::UInt16: return f(static_cast<const uint16_t*>(data)[i]);
    case DType::Int32: return f(static_cast<const int32_t*>(data)[i]);
    case DType::UInt32: return f(static_cast<const uint32_t*>(data)[i]);
    case DType::Int64: return f(static_cast<const int64_t*>(data)[i]);
    case DType::UInt64: return f(static_cast<const uint64_t*>(data)[i]);
    case DType::Bool: return f(static_cast<const bool*>(data)[i]);
    case DType::Float16: return f(to_float(static_cast<const Float16*>(data)[i]));
    case DType::BFloat16: return f(to_float(static_cast<const BFloat16*>(data)[i]));
    default: throw Error(ErrorCode::InvalidArgument, std::string("cannot read elements of dtype ") + dtype_name(t));
  }
}

}  // namespace

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error(ErrorCode::InvalidArgument, "negative dimension in shape " + shape_to_string(shape));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw Error(ErrorCode::InvalidArgument, "shape " + shape_to_string(shape) + " has too many elements");
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

size_t Tensor::checked_nbytes(DType dtype, const Shape& shape) {
  const int64_t numel = shape_numel(shape);
  const size_t esize = dtype_size(dtype);
  if (esize == 0) throw Error(ErrorCode::NotImplemented, std::string("tensors of dtype ") + dtype_name(dtype) + " are not supported");
  if (numel > kMaxBytes / static_cast<int64_t>(esize))
    throw Error(ErrorCode::InvalidArgument, std::string("tensor of shape ") + shape_to_string(shape) + " and dtype " +
                                                dtype_name(dtype) + " exceeds the " + std::to_string(kMaxBytes >> 30) +
                                                " GiB limit for one tensor");
  return static_cast<size_t>(numel) * esize;
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)), numel_(shape_numel(shape_)) {
  storage_ = allocate_aligned(checked_nbytes(dtype, shape_));
  data_ = storage_.get();
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t(dtype, std::move(shape));
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::wrap(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = shape_numel(t.shape_);
  t.storage_ = std::move(owner);
  t.data_ = data;
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  const int64_t n = shape_numel(shape);
  if (n != numel_)
    throw Error(ErrorCode::InvalidArgument, "cannot reshape " + shape_to_string(shape_) + " to " + shape_to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

double Tensor::value_as_double(int64_t i) const {
  return visit_numeric(dtype_, data_, i, [](auto v) { return static_cast<double>(v); });
}

int64_t Tensor::value_as_int64(int64_t i) const {
  return visit_numeric(dtype_, data_, i, [](auto v) { return static_cast<int64_t>(v); });
}

std::vector<int64_t> Tensor::to_int64_vector() const {
  std::vector<int64_t> out(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) out[static_cast<size_t>(i)] = value_as_int64(i);
  return out;
}

void Tensor::check_type(DType requested) const {
  if (requested != dtype_)
    throw Error(ErrorCode::InvalidArgument, std::string("tensor holds ") + dtype_name(dtype_) + ", accessed as " +
                                                dtype_name(requested));
}

}  // namespace kiln
