#include "llm/nn/module.h"

#include <cstring>
#include <map>
#include <set>

#include "core/thread_pool.h"
#include "llm/safetensors.h"
#include "ops/cpu/cast.h"

namespace kiln::llm::nn {
namespace {

bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float16 || t == DType::BFloat16; }

std::string join_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// At most `limit` names, then how many more: a wrong checkpoint can miss hundreds.
std::string name_list(const std::vector<std::string>& names, size_t limit = 12) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += " and " + std::to_string(names.size() - limit) + " more";
  return out;
}

Tensor converted(const Tensor& t, DType dtype) {
  ThreadPool inline_pool(1);
  return ops::cast_tensor(t, dtype, inline_pool);
}

// Loaded parameters own their storage (large buffers sit on 2 MB pages, core/aligned_alloc.cc)
// rather than viewing the checkpoint's file mapping: decode streams every weight once per token,
// and the mapping's 4 KB pages held f16 decode to a tenth of the read bandwidth.
Tensor owned(const Tensor& t, DType dtype) {
  Tensor c = converted(t, dtype);
  if (c.raw() != t.raw()) return c;
  Tensor copy(dtype, t.shape());
  std::memcpy(copy.raw(), t.raw(), t.nbytes());
  return copy;
}

}  // namespace

Tensor& Module::register_parameter(std::string name, Shape shape) {
  parameters_.push_back({std::move(name), std::move(shape), std::make_unique<Tensor>()});
  return *parameters_.back().value;
}

void Module::visit(const std::string& prefix, const std::function<void(const std::string&, Slot&)>& fn) {
  for (Slot& slot : parameters_) fn(join_path(prefix, slot.name), slot);
  for (auto& [name, child] : children_) child->visit(join_path(prefix, name), fn);
}

void Module::visit(const std::string& prefix, const std::function<void(const std::string&, const Slot&)>& fn) const {
  for (const Slot& slot : parameters_) fn(join_path(prefix, slot.name), slot);
  for (const auto& [name, child] : children_) std::as_const(*child).visit(join_path(prefix, name), fn);
}

std::vector<std::pair<std::string, const Tensor*>> Module::named_parameters() const {
  std::vector<std::pair<std::string, const Tensor*>> out;
  visit("", [&](const std::string& path, const Slot& slot) { out.emplace_back(path, slot.value.get()); });
  return out;
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  visit("", [&](const std::string&, const Slot& slot) { count += shape_numel(slot.shape); });
  return count;
}

const Tensor& Module::parameter(const std::string& path) const {
  const Tensor* found = nullptr;
  visit("", [&](const std::string& p, const Slot& slot) {
    if (p == path) found = slot.value.get();
  });
  if (!found) throw Error(ErrorCode::InvalidArgument, "the module has no parameter '" + path + "'");
  return *found;
}

void Module::load_state_dict(const StateSource& source, bool strict, const Progress& progress) {
  int64_t total = 0, loaded = 0;
  if (progress) visit("", [&](const std::string&, Slot&) { ++total; });
  std::vector<std::string> missing;
  std::set<std::string> taken;
  visit("", [&](const std::string& path, Slot& slot) {
    if (!source.contains(path)) {
      missing.push_back(path);
      return;
    }
    taken.insert(path);
    Tensor t = source.tensor(path);
    if (t.shape() != slot.shape)
      throw Error(ErrorCode::InvalidModel, source.name + ": tensor '" + path + "' has shape " +
                                               shape_to_string(t.shape()) + ", the model expects " +
                                               shape_to_string(slot.shape));
    if (!is_floating(t.dtype()))
      throw Error(ErrorCode::InvalidModel, source.name + ": tensor '" + path + "' is " + dtype_name(t.dtype()) +
                                               ", the model expects floating point");
    const DType keep = slot.value->defined() ? slot.value->dtype() : t.dtype();
    *slot.value = owned(t, keep);
    if (progress) progress("loading", ++loaded, total);
  });
  std::vector<std::string> unexpected;
  if (strict)
    for (const std::string& name : source.names())
      if (!taken.count(name)) unexpected.push_back(name);
  if (strict && (!missing.empty() || !unexpected.empty())) {
    std::string message = source.name + " does not match the model:";
    if (!missing.empty()) message += " missing " + std::to_string(missing.size()) + " (" + name_list(missing) + ");";
    if (!unexpected.empty())
      message += " unexpected " + std::to_string(unexpected.size()) + " (" + name_list(unexpected) + ");";
    message.pop_back();
    throw Error(ErrorCode::InvalidModel, message);
  }
  if (!missing.empty())
    throw Error(ErrorCode::InvalidModel, source.name + " lacks " + name_list(missing));
  prepare(options_, progress);
}

void Module::to(DType dtype) {
  if (!is_floating(dtype))
    throw Error(ErrorCode::InvalidArgument,
                std::string("Module::to: parameters are stored as float32, float16 or bfloat16, not ") +
                    dtype_name(dtype));
  visit("", [&](const std::string&, Slot& slot) {
    if (slot.value->defined()) *slot.value = converted(*slot.value, dtype);
  });
  prepare(options_);
}

void Module::to(WeightQuant quant) {
  PrepareOptions options = options_;
  options.quant = quant;
  prepare(options);
}

void Module::save(const std::string& path) const {
  std::vector<std::pair<std::string, Tensor>> tensors;
  visit("", [&](const std::string& name, const Slot& slot) {
    if (!slot.value->defined())
      throw Error(ErrorCode::InvalidArgument, "Module::save: parameter '" + name + "' was never loaded");
    tensors.emplace_back(name, *slot.value);
  });
  save_safetensors(path, tensors, {{"format", "pt"}});
}

void Module::prepare(const PrepareOptions& options, const Progress& progress) {
  int64_t done = 0;
  prepare_tree(options, progress, done, progress ? module_count() : 0);
}

int64_t Module::module_count() const {
  int64_t count = 1;
  for (const auto& [name, child] : children_) count += child->module_count();
  return count;
}

void Module::prepare_tree(const PrepareOptions& options, const Progress& progress, int64_t& done, int64_t total) {
  options_ = options;
  for (auto& [name, child] : children_) child->prepare_tree(options, progress, done, total);
  prepare_self(options);
  if (progress) progress("preparing", ++done, total);
}

}  // namespace kiln::llm::nn
