#include "core/weight_store.h"

#include <cstring>

#include "core/aligned_alloc.h"
#include "kiln/error.h"

namespace kiln {
namespace {

class FreshWeightStore final : public WeightStore {
 public:
  PreparedWeights get(std::string_view, size_t bytes, const Pack& pack) override {
    if (bytes == 0) return {};
    std::shared_ptr<std::byte> memory(static_cast<std::byte*>(aligned_allocate(bytes)),
                                      [bytes](std::byte* p) { aligned_free(p, bytes); });
    std::memset(memory.get(), 0, bytes);
    pack(memory.get());
    return {memory.get(), bytes, memory};
  }
  PreparedWeights view(std::string_view key, size_t bytes, const std::function<PreparedWeights()>& as_is) override {
    PreparedWeights weights = as_is();
    if (weights.size() != bytes)
      throw Error(ErrorCode::InvalidArgument, "weights '" + std::string(key) + "' are " + std::to_string(weights.size()) +
                                                  " bytes, not " + std::to_string(bytes));
    return weights;
  }
};

}  // namespace

WeightStore& fresh_weight_store() {
  static FreshWeightStore store;
  return store;
}

PreparedWeights ScopedWeightStore::get(std::string_view key, size_t bytes, const Pack& pack) {
  return parent_.get(prefix_ + std::string(key), bytes, pack);
}

PreparedWeights ScopedWeightStore::view(std::string_view key, size_t bytes,
                                        const std::function<PreparedWeights()>& as_is) {
  return parent_.view(prefix_ + std::string(key), bytes, as_is);
}

}  // namespace kiln
