// Where kernels get the weights they prepare once from a model's constants (packed GEMM panels,
// reordered filters, padded biases): packed now into fresh memory, or taken as an engine file
// stored them (`kiln build`), in which case nothing is packed and the bytes are read in place.
// Every kernel that prepares weights asks its store for them, so the same code path builds a
// session from ONNX, records an engine, and loads one.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace kiln {

// Prepared bytes and what keeps them alive: memory of their own, or an engine file's mapping.
// 64-byte aligned. Const: many sessions' runs read them at once.
class PreparedWeights {
 public:
  PreparedWeights() = default;
  PreparedWeights(const std::byte* data, size_t size, std::shared_ptr<const void> owner)
      : data_(data), size_(size), owner_(std::move(owner)) {}

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  template <class T>
  const T* as() const {
    return reinterpret_cast<const T*>(data_);
  }
  template <class T>
  size_t count() const {
    return size_ / sizeof(T);
  }
  const std::shared_ptr<const void>& owner() const { return owner_; }

 private:
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::shared_ptr<const void> owner_;
};

class WeightStore {
 public:
  using Pack = std::function<void(std::byte* out)>;
  virtual ~WeightStore() = default;
  // The `bytes` bytes named `key` (unique within the kernel asking). `pack` writes them into a
  // zeroed, 64-byte aligned buffer; a store that holds a stored copy returns that and never calls
  // it, and throws Error(InvalidModel) naming the key when its copy is missing or another size
  // (an engine built by another Kiln that packs differently).
  virtual PreparedWeights get(std::string_view key, size_t bytes, const Pack& pack) = 0;
  // The same for weights a kernel reads as they are (an embedding table): `as_is` gives them, and
  // a store without a stored copy returns what it gives rather than copying it.
  virtual PreparedWeights view(std::string_view key, size_t bytes, const std::function<PreparedWeights()>& as_is) = 0;
};

// Packs into fresh memory on every call.
WeightStore& fresh_weight_store();

// Asks `parent` for each key under `prefix` + key: a kernel's keys become unique in a session
// (node 12's "B" is "n12/B") and a part of a kernel gets its own names ("pointwise/filters").
class ScopedWeightStore final : public WeightStore {
 public:
  ScopedWeightStore(WeightStore& parent, std::string prefix) : parent_(parent), prefix_(std::move(prefix)) {}
  PreparedWeights get(std::string_view key, size_t bytes, const Pack& pack) override;
  PreparedWeights view(std::string_view key, size_t bytes, const std::function<PreparedWeights()>& as_is) override;

 private:
  WeightStore& parent_;
  std::string prefix_;
};

}  // namespace kiln
