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
  } catch (const std::exception&) {
    // Rejected (or out of memory): the node stays, and the run reports the error in context.
    return std::nullopt;
  }
  return outputs;
}

// The bytes the node holds before folding: its constant inputs and tensor attributes (Constant's value).
size_t held_bytes(const ir::Graph& g, const ir::Node& node) {
  size_t bytes = 0;
  for (const std::string& input : node.inputs)
    if (!input.empty()) bytes += g.initializers.at(input).nbytes();
  for (const auto& [name, attribute] : node.attributes)
    if (const auto* t = std::get_if<Tensor>(&attribute)) bytes += t->nbytes();
  return bytes;
}

}  // namespace

int FoldConstants::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  ThreadPool pool(1);
  std::vector<size_t> folded;
  // In topological order, so that a chain of constant nodes folds in one round.
  for (size_t index : g.topological_order()) {
    const ir::Node& node = g.nodes[index];
    if (is_op(node, "DequantizeLinear") != (mode_ == Mode::DequantizeOnly) || !foldable(g, node)) continue;
    auto outputs = evaluate(model, node, cpu_level_, pool);
    if (!outputs) continue;
    size_t result_bytes = 0;
    bool computed_all = true;
    for (const Tensor& t : *outputs) {
      computed_all = computed_all && t.defined();
      result_bytes += t.nbytes();
    }
    if (!computed_all || result_bytes > held_bytes(g, node) + static_cast<size_t>(kMaxGrowthBytes)) continue;
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty()) g.initializers[node.outputs[i]] = std::move((*outputs)[i]);
    folded.push_back(index);
  }
  ir::remove_nodes(g, folded);
  return static_cast<int>(folded.size());
}

}  // namespace kiln::passes
