// The kernel registry: the one way to make an op available. Each kernel registers itself with one
// line beside its class:
//
//   KILN_KERNEL(ReluKernel, {.op = "Relu", .since = 6, .types = {DType::Float32}});
//
// A registration is keyed by (domain, op, opset range, provider, dtype of input `type_input`).
// The supported-ops table in docs/ is generated from this registry (`kiln ops --markdown`).
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ops/kernel.h"

namespace kiln::ops {

enum class Provider { Cpu };
const char* provider_name(Provider p);

inline constexpr int64_t kLatestOpset = std::numeric_limits<int32_t>::max();

struct KernelDef {
  std::string op;
  std::string domain;  // "" is ai.onnx
  int64_t since = 1;   // first opset version this kernel implements
  int64_t until = kLatestOpset;
  std::vector<DType> types;  // dtypes accepted for input `type_input`; empty accepts any
  int type_input = 0;
  Provider provider = Provider::Cpu;
};

using KernelFactory = std::unique_ptr<OpKernel> (*)(const KernelInfo&);

template <class K>
std::unique_ptr<OpKernel> make_kernel(const KernelInfo& info) {
  return std::make_unique<K>(info);
}

struct KernelEntry {
  KernelDef def;
  KernelFactory factory;
};

class KernelRegistry {
 public:
  static KernelRegistry& global();

  // Returns true so that registration can initialize a static.
  bool add(KernelDef def, KernelFactory factory);
  // The kernel for a node whose inputs have `input_dtypes` (Undefined where unknown: the kernel
  // then checks at run time), or nullptr when the op, its opset or the dtypes are not covered.
  const KernelEntry* find(const std::string& domain, const std::string& op, int64_t opset, Provider provider,
                          const std::vector<DType>& input_dtypes) const;
  bool has_op(const std::string& domain, const std::string& op) const;
  const std::vector<KernelEntry>& entries() const { return entries_; }

 private:
  std::vector<KernelEntry> entries_;
};

// Normalizes "ai.onnx" to "", the registry's name for the default domain.
std::string canonical_domain(const std::string& domain);

// Shared type lists for registrations.
namespace types {
inline const std::vector<DType> kFloat = {DType::Float32};
inline const std::vector<DType> kNumeric = {DType::Float32, DType::Float64, DType::Int32, DType::Int64};
inline const std::vector<DType> kAll = {};
}  // namespace types

}  // namespace kiln::ops

#define KILN_CONCAT_INNER(a, b) a##b
#define KILN_CONCAT(a, b) KILN_CONCAT_INNER(a, b)
#define KILN_KERNEL(Kernel, ...)                                                            \
  [[maybe_unused]] static const bool KILN_CONCAT(kiln_kernel_registered_, __COUNTER__) = \
      ::kiln::ops::KernelRegistry::global().add(::kiln::ops::KernelDef __VA_ARGS__, &::kiln::ops::make_kernel<Kernel>)
