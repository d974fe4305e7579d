// kiln::Tensor: dtype + shape + a shared, 64-byte aligned buffer. Always dense row-major; a view
// (reshape) shares the buffer without copying. Copying a Tensor copies the handle, not the data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/dtype.h"
#include "kiln/error.h"

namespace kiln {

using Shape = std::vector<int64_t>;

// Element count of a shape; throws InvalidArgument on a negative dim or int64 overflow.
int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);

class Tensor {
 public:
  // The largest single buffer Kiln allocates; larger requests fail with a clear error instead of
  // letting a hostile shape exhaust memory.
  static constexpr int64_t kMaxBytes = int64_t{16} << 30;

  Tensor() = default;
  // Allocates uninitialized storage.
  Tensor(DType dtype, Shape shape);
  // The bytes a tensor of this dtype and shape needs; throws for a dtype without a storage size
  // or a size over kMaxBytes. The checks the allocating constructor makes, for other allocators.
  static size_t checked_nbytes(DType dtype, const Shape& shape);
  // Allocates and zero-fills.
  static Tensor zeros(DType dtype, Shape shape);
  // Wraps memory owned elsewhere; `owner` keeps it alive as long as any view exists.
  static Tensor wrap(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner);
  template <class T>
  static Tensor from_vector(Shape shape, const std::vector<T>& values);
  template <class T>
  static Tensor scalar(T value) {
    return from_vector<T>({}, {value});
  }

  bool defined() const { return dtype_ != DType::Undefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t axis) const { return shape_.at(axis); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  // What keeps the buffer alive (shared by every view of it); empty for an undefined tensor.
  const std::shared_ptr<void>& owner() const { return storage_; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <class T>
  T* data() {
    check_type(dtype_of<T>());
    return static_cast<T*>(data_);
  }
  template <class T>
  const T* data() const {
    check_type(dtype_of<T>());
    return static_cast<const T*>(data_);
  }

  // Same buffer, new shape of equal element count.
  Tensor reshaped(Shape shape) const;
  // A deep copy with its own buffer.
  Tensor clone() const;
  // Reads element i converted to double / int64 (for shape-like inputs of any integer dtype).
  double value_as_double(int64_t i) const;
  int64_t value_as_int64(int64_t i) const;
  // All elements of an integer tensor as int64 (shapes, axes, indices given as inputs).
  std::vector<int64_t> to_int64_vector() const;

 private:
  void check_type(DType requested) const;

  DType dtype_ = DType::Undefined;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
};

template <class T>
Tensor Tensor::from_vector(Shape shape, const std::vector<T>& values) {
  Tensor t(dtype_of<T>(), std::move(shape));
  if (static_cast<size_t>(t.numel()) != values.size())
    throw Error(ErrorCode::InvalidArgument, "Tensor::from_vector: shape " + shape_to_string(t.shape()) +
                                                " does not hold " + std::to_string(values.size()) + " values");
  T* out = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return t;
}

}  // namespace kiln
