#include "passes/fold_constants.h"

#include <algorithm>
#include <optional>

#include "core/thread_pool.h"
#include "ir/graph_edit.h"
#include "kiln/error.h"
#include "ops/registry.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

bool foldable(const ir::Graph& g, const ir::Node& node) {
  if (is_random(node) || has_subgraph(node) || node.outputs.empty()) return false;
  const auto known = [&](const std::string& input) { return input.empty() || g.initializers.count(input); };
  const auto observed = [&](const std::string& output) { return ir::is_graph_output(g, output); };
  return std::all_of(node.inputs.begin(), node.inputs.end(), known) &&
         std::none_of(node.outputs.begin(), node.outputs.end(), observed);
}

// The node's outputs computed by its kernel, or nullopt when it has none or the kernel rejects it.
std::optional<std::vector<Tensor>> evaluate(const ir::Model& model, const ir::Node& node, CpuLevel cpu_level,
                                            ThreadPool& pool) {
  const ir::Graph& g = model.graph;
  std::vector<DType> dtypes;
  std::vector<const Tensor*> inputs;
  for (const std::string& input : node.inputs) {
    const Tensor* value = input.empty() ? nullptr : &g.initializers.at(input);
    inputs.push_back(value);
    dtypes.push_back(value ? value->dtype() : DType::Undefined);
  }
  const int64_t opset = model.opset(node.domain);
  const ops::KernelEntry* entry =
      ops::KernelRegistry::global().find(node.domain, node.op_type, opset, ops::Provider::Cpu, dtypes);
  if (!entry) return std::nullopt;
  std::vector<Tensor> outputs(node.outputs.size());
  std::vector<Tensor*> output_ptrs;
  for (Tensor& t : outputs) output_ptrs.push_back(&t);
  try {
    const auto kernel = entry->factory(ops::KernelInfo(node, opset, dtypes, inputs, cpu_level));
    ops::KernelContext ctx(inputs, output_ptrs, pool);
    kernel->compute(ctx);
  } catch (const Error&) {
    return std::nullopt;
  }
  return outputs;
}

size_t total_bytes(const std::vector<const Tensor*>& tensors) {
  size_t bytes = 0;
  for (const Tensor* t : tensors) bytes += t ? t->nbytes() : 0;
  return bytes;
}

// What the node holds before folding: its constant inputs and tensor attributes (Constant's value).
std::vector<const Tensor*> held_tensors(const ir::Graph& g, const ir::Node& node) {
  std::vector<const Tensor*> held;
  for (const std::string& input : node.inputs)
    if (!input.empty()) held.push_back(&g.initializers.at(input));
  for (const auto& [name, attribute] : node.attributes)
    if (const auto* t = std::get_if<Tensor>(&attribute)) held.push_back(t);
  return held;
}

}  // namespace

int FoldConstants::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  ThreadPool pool(1);
  std::vector<size_t> folded;
  // In topological order, so that a chain of constant nodes folds in one round.
  for (size_t index : g.topological_order()) {
    const ir::Node& node = g.nodes[index];
    if (!foldable(g, node)) continue;
    auto outputs = evaluate(model, node, cpu_level_, pool);
    if (!outputs) continue;
    std::vector<const Tensor*> results;
    for (const Tensor& t : *outputs) results.push_back(&t);
    const bool computed_all = std::all_of(results.begin(), results.end(), [](const Tensor* t) { return t->defined(); });
    if (!computed_all ||
        total_bytes(results) > total_bytes(held_tensors(g, node)) + static_cast<size_t>(kMaxGrowthBytes))
      continue;
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty()) g.initializers[node.outputs[i]] = std::move((*outputs)[i]);
    folded.push_back(index);
  }
  ir::remove_nodes(g, folded);
  return static_cast<int>(folded.size());
}

}  // namespace kiln::passes
