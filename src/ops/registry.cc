#include "ops/registry.h"

#include <algorithm>

namespace kiln::ops {

const char* provider_name(Provider p) {
  switch (p) {
    case Provider::Cpu: return "CPU";
  }
  return "?";
}

std::string canonical_domain(const std::string& domain) { return domain == "ai.onnx" ? std::string() : domain; }

KernelRegistry& KernelRegistry::global() {
  static KernelRegistry registry;
  return registry;
}

bool KernelRegistry::add(KernelDef def, KernelFactory factory) {
  def.domain = canonical_domain(def.domain);
  entries_.push_back({std::move(def), factory});
  return true;
}

const KernelEntry* KernelRegistry::find(const std::string& domain, const std::string& op, int64_t opset,
                                        Provider provider, const std::vector<DType>& input_dtypes) const {
  const std::string d = canonical_domain(domain);
  for (const auto& e : entries_) {
    const KernelDef& k = e.def;
    if (k.op != op || k.domain != d || k.provider != provider || opset < k.since || opset > k.until) continue;
    const size_t ti = static_cast<size_t>(k.type_input);
    const DType type = ti < input_dtypes.size() ? input_dtypes[ti] : DType::Undefined;
    if (k.types.empty() || type == DType::Undefined || std::find(k.types.begin(), k.types.end(), type) != k.types.end())
      return &e;
  }
  return nullptr;
}

bool KernelRegistry::has_op(const std::string& domain, const std::string& op) const {
  const std::string d = canonical_domain(domain);
  return std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e.def.op == op && e.def.domain == d; });
}

}  // namespace kiln::ops
