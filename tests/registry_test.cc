#include <gtest/gtest.h>

#include <algorithm>

#include "ops/registry.h"

namespace kiln::ops {
namespace {

bool types_overlap(const KernelDef& a, const KernelDef& b) {
  if (a.types.empty() || b.types.empty()) return true;
  return std::any_of(a.types.begin(), a.types.end(),
                     [&](DType t) { return std::find(b.types.begin(), b.types.end(), t) != b.types.end(); });
}

// Two kernels claiming the same (op, opset, dtype) would make the lookup depend on link order.
TEST(KernelRegistry, NoTwoKernelsClaimTheSameKey) {
  const auto& entries = KernelRegistry::global().entries();
  for (size_t i = 0; i < entries.size(); ++i)
    for (size_t j = i + 1; j < entries.size(); ++j) {
      const KernelDef& a = entries[i].def;
      const KernelDef& b = entries[j].def;
      if (a.op != b.op || a.domain != b.domain || a.provider != b.provider) continue;
      const bool opsets_overlap = a.since <= b.until && b.since <= a.until;
      EXPECT_FALSE(opsets_overlap && a.type_input == b.type_input && types_overlap(a, b))
          << a.op << " is registered twice for overlapping opsets and dtypes";
    }
}

TEST(KernelRegistry, FindHonoursOpsetRangeAndDtype) {
  const auto& registry = KernelRegistry::global();
  EXPECT_NE(registry.find("", "Add", 14, Provider::Cpu, {DType::Float32}), nullptr);
  EXPECT_NE(registry.find("ai.onnx", "Add", 14, Provider::Cpu, {DType::Int64}), nullptr);
  EXPECT_EQ(registry.find("", "Add", 14, Provider::Cpu, {DType::String}), nullptr);
  EXPECT_EQ(registry.find("", "LessOrEqual", 11, Provider::Cpu, {DType::Float32}), nullptr);
  EXPECT_EQ(registry.find("", "NoSuchOp", 14, Provider::Cpu, {DType::Float32}), nullptr);
  EXPECT_FALSE(registry.has_op("com.example", "Add"));
}

}  // namespace
}  // namespace kiln::ops
