#include "passes/match.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "ir/graph_edit.h"
#include "passes/pass.h"

namespace kiln::passes {

std::optional<size_t> sole_consumer(const ir::Graph& graph, const std::string& value) {
  if (ir::is_graph_output(graph, value)) return std::nullopt;
  const auto consumers = ir::consumers_of(graph, value);
  if (consumers.size() != 1) return std::nullopt;
  return consumers[0];
}

std::optional<size_t> sole_consumer_of_type(const ir::Graph& graph, const std::string& value, const char* op_type) {
  const auto consumer = sole_consumer(graph, value);
  if (!consumer || !is_op(graph.nodes[*consumer], op_type) || graph.nodes[*consumer].outputs.size() != 1)
    return std::nullopt;
  return consumer;
}

std::optional<TransposeSource> sole_transpose_producer(const ir::Graph& graph,
                                                       const std::unordered_map<std::string, size_t>& producers,
                                                       const std::string& value) {
  const auto node = sole_producer_of_type(graph, producers, value, "Transpose");
  if (!node || graph.nodes[*node].inputs.size() != 1) return std::nullopt;
  const auto perm = attribute<std::vector<int64_t>>(graph.nodes[*node], "perm");
  if (!perm) return std::nullopt;
  return TransposeSource{*node, *perm};
}

std::optional<size_t> sole_producer_of_type(const ir::Graph& graph, const std::unordered_map<std::string, size_t>& producers,
                                            const std::string& value, const char* op_type) {
  const auto it = producers.find(value);
  if (it == producers.end() || !is_op(graph.nodes[it->second], op_type) || !sole_consumer(graph, value)) return std::nullopt;
  return it->second;
}

bool is_op(const ir::Node& node, const char* op_type, const char* domain) {
  return node.op_type == op_type && node.domain == domain;
}

void remove_unread(ir::Graph& graph, const char* op_type) {
  const auto read = ir::read_values(graph);
  std::vector<size_t> unread;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& node = graph.nodes[i];
    if (is_op(node, op_type) && std::none_of(node.outputs.begin(), node.outputs.end(), [&](const std::string& o) {
          return read.count(o) || ir::is_graph_output(graph, o);
        }))
      unread.push_back(i);
  }
  ir::remove_nodes(graph, unread);
}

bool is_random(const ir::Node& node) {
  static const char* const kRandom[] = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                        "Multinomial", "Bernoulli"};
  return node.domain.empty() &&
         std::any_of(std::begin(kRandom), std::end(kRandom), [&](const char* op) { return node.op_type == op; });
}

bool has_subgraph(const ir::Node& node) {
  return std::any_of(node.attributes.begin(), node.attributes.end(), [](const auto& attribute) {
    return std::holds_alternative<std::shared_ptr<ir::Graph>>(attribute.second) ||
           std::holds_alternative<std::vector<std::shared_ptr<ir::Graph>>>(attribute.second);
  });
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

const Tensor* float_initializer(const ir::Graph& graph, const std::string& name) {
  const auto it = graph.initializers.find(name);
  return it != graph.initializers.end() && it->second.dtype() == DType::Float32 ? &it->second : nullptr;
}

std::optional<float> scalar_constant(const ir::Graph& graph, const std::string& name) {
  const Tensor* t = constant_value(graph, name);
  if (!t || t->dtype() != DType::Float32 || t->numel() != 1) return std::nullopt;
  return t->data<float>()[0];
}

std::optional<std::string> other_operand(const ir::Node& node, const std::string& value) {
  if (node.inputs.size() != 2 || node.inputs[0] == node.inputs[1]) return std::nullopt;
  if (node.inputs[0] == value) return node.inputs[1];
  if (node.inputs[1] == value) return node.inputs[0];
  return std::nullopt;
}

void SubgraphFusion::fuse(size_t keep, const char* op_type, std::vector<std::string> inputs,
                          std::map<std::string, ir::Attribute> attributes, const std::vector<size_t>& others) {
  ir::Node& node = model_.graph.nodes[keep];
  node = ir::Node{node.name, op_type, kKilnDomain, std::move(inputs), node.outputs, std::move(attributes)};
  removed_.insert(removed_.end(), others.begin(), others.end());
  ++fused_;
}

int SubgraphFusion::finish() {
  ir::remove_nodes(model_.graph, removed_);
  if (fused_) import_kiln_domain(model_);
  return fused_;
}

std::optional<size_t> weight_matmul_consumer(const ir::Graph& graph, const ir::Node& matmul) {
  if (!is_op(matmul, "MatMul") || matmul.inputs.size() != 2 || matmul.outputs.size() != 1) return std::nullopt;
  const Tensor* w = float_initializer(graph, matmul.inputs[1]);
  if (!w || w->rank() != 2) return std::nullopt;
  return sole_consumer(graph, matmul.outputs[0]);
}

bool is_last_axis_mean(const ir::Graph& graph, const ir::Node& node) {
  if (!is_op(node, "ReduceMean") || attribute<int64_t>(node, "keepdims").value_or(1) != 1) return false;
  if (const auto axes = attribute<std::vector<int64_t>>(node, "axes")) return *axes == std::vector<int64_t>{-1};
  if (node.inputs.size() < 2) return false;
  const Tensor* axes = constant_value(graph, node.inputs[1]);
  return axes && axes->dtype() == DType::Int64 && axes->numel() == 1 && axes->data<int64_t>()[0] == -1;
}

const Tensor* constant_value(const ir::Graph& graph, const std::string& name) {
  if (const auto it = graph.initializers.find(name); it != graph.initializers.end()) return &it->second;
  for (const ir::Node& node : graph.nodes) {
    if (!is_op(node, "Constant") || node.outputs.size() != 1 || node.outputs[0] != name) continue;
    const auto value = node.attributes.find("value");
    return value == node.attributes.end() ? nullptr : std::get_if<Tensor>(&value->second);
  }
  return nullptr;
}

}  // namespace kiln::passes
