#include "llm/nn/module.h"

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

}  // namespace

Parameter& Module::register_parameter(std::string name, Shape shape) {
  parameters_.push_back({std::move(name), std::make_unique<Parameter>(std::move(shape))});
  return *parameters_.back().parameter;
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
  visit("", [&](const std::string& path, const Slot& slot) { out.emplace_back(path, &slot.parameter->value()); });
  return out;
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  visit("", [&](const std::string&, const Slot& slot) { count += shape_numel(slot.parameter->shape()); });
  return count;
}

const Tensor& Module::parameter(const std::string& path) const {
  const Parameter* found = nullptr;
  visit("", [&](const std::string& p, const Slot& slot) {
    if (p == path) found = slot.parameter.get();
  });
  if (!found) throw Error(ErrorCode::InvalidArgument, "the module has no parameter '" + path + "'");
  return found->value();
}

void Module::load_state_dict(const StateSource& source, bool strict, const Progress& progress, WeightStore* weights) {
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
    Tensor t;
    const TensorDescription d = source.describe ? source.describe(path) : [&] {
      t = source.tensor(path);
      return TensorDescription{t.shape(), t.dtype()};
    }();
    Parameter& p = *slot.parameter;
    if (d.shape != p.shape())
      throw Error(ErrorCode::InvalidModel, source.name + ": tensor '" + path + "' has shape " +
                                               shape_to_string(d.shape) + ", the model expects " +
                                               shape_to_string(p.shape()));
    if (!is_floating(d.dtype))
      throw Error(ErrorCode::InvalidModel, source.name + ": tensor '" + path + "' is " + dtype_name(d.dtype) +
                                               ", the model expects floating point");
    const DType keep = p.dtype() != DType::Undefined ? p.dtype() : d.dtype;
    if (source.describe) {
      std::function<std::optional<StoredCodes>()> codes;
      if (source.codes)
        codes = [read = source.codes, source_name = source.name, path, described = d.shape]() -> std::optional<StoredCodes> {
          std::optional<StoredCodes> c = read(path);
          if (c && Shape{c->rows, c->cols} != described)
            throw Error(ErrorCode::InvalidModel, source_name + ": tensor '" + path + "' was described with shape " +
                                                     shape_to_string(described) + " but its codes are " +
                                                     std::to_string(c->rows) + "x" + std::to_string(c->cols));
          return c;
        };
      p.defer(
          keep,
          [tensor = source.tensor, source_name = source.name, path, described = d.shape, keep] {
            const Tensor read = tensor(path);
            if (read.shape() != described)
              throw Error(ErrorCode::InvalidModel, source_name + ": tensor '" + path + "' was described with shape " +
                                                       shape_to_string(described) + " but read with shape " +
                                                       shape_to_string(read.shape()));
            return converted(read, keep);
          },
          std::move(codes));
    } else
      p.hold(converted(t, keep));
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
  prepare(options_, progress, weights);
}

void Module::to(DType dtype) {
  if (!is_floating(dtype))
    throw Error(ErrorCode::InvalidArgument,
                std::string("Module::to: parameters are stored as float32, float16 or bfloat16, not ") +
                    dtype_name(dtype));
  visit("", [&](const std::string&, Slot& slot) {
    Parameter& p = *slot.parameter;
    if (p.deferred())
      p.defer(dtype, [read = p.read_, dtype] { return converted(read(), dtype); });
    else if (p.value().defined())
      p.hold(converted(p.value(), dtype));
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
    if (!slot.parameter->value().defined())
      throw Error(ErrorCode::InvalidArgument, "Module::save: parameter '" + name + "' was never loaded");
    tensors.emplace_back(name, slot.parameter->value());
  });
  save_safetensors(path, tensors, {{"format", "pt"}});
}

void Module::prepare(const PrepareOptions& options, const Progress& progress, WeightStore* weights) {
  int64_t done = 0;
  prepare_tree(options, weights ? *weights : fresh_weight_store(), progress, done, progress ? module_count() : 0);
}

int64_t Module::module_count() const {
  int64_t count = 1;
  for (const auto& [name, child] : children_) count += child->module_count();
  return count;
}

void Module::prepare_tree(const PrepareOptions& options, WeightStore& weights, const Progress& progress, int64_t& done,
                          int64_t total) {
  options_ = options;
  for (auto& [name, child] : children_) {
    ScopedWeightStore child_weights(weights, name + ".");
    child->prepare_tree(options, child_weights, progress, done, total);
  }
  prepare_self(options, weights);
  // What prepare_self read of this subtree (a fused projection reads its children's weights) is in
  // the prepared form now, so at most one module's deferred inputs are in memory at a time.
  visit("", [](const std::string&, const Slot& slot) { slot.parameter->let_go(); });
  if (progress) progress("preparing", ++done, total);
}

}  // namespace kiln::llm::nn
