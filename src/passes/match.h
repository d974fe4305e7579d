// Small matching helpers shared by the fusion passes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace kiln::passes {

// The one node that reads `value`, when exactly one node does and it is not a graph output
// (a fused-away value must not be observable).
std::optional<size_t> sole_consumer(const ir::Graph& graph, const std::string& value);

// The one node reading `value` (not a graph output) when it is `op_type` of the default domain
// with one output.
std::optional<size_t> sole_consumer_of_type(const ir::Graph& graph, const std::string& value, const char* op_type);
// The node writing `value` when it is `op_type` of the default domain and `value` has no other
// reader; `producers` is graph.producers().
std::optional<size_t> sole_producer_of_type(const ir::Graph& graph, const std::unordered_map<std::string, size_t>& producers,
                                            const std::string& value, const char* op_type);

// The Transpose (one input, a perm attribute) writing `value` when nothing else reads `value`:
// its node index and perm, for the passes that fold a transpose into the product reading it.
struct TransposeSource {
  size_t node;
  std::vector<int64_t> perm;
};
std::optional<TransposeSource> sole_transpose_producer(const ir::Graph& graph,
                                                       const std::unordered_map<std::string, size_t>& producers,
                                                       const std::string& value);

// For a MatMul by a constant float32 matrix W [K, N] (a Linear layer's weights) whose result one
// node alone reads: that node's index. nullopt for any other node.
std::optional<size_t> weight_matmul_consumer(const ir::Graph& graph, const ir::Node& matmul);

// ReduceMean over the last axis alone, keeping it: the axes attribute before opset 18, a constant
// input from then on.
bool is_last_axis_mean(const ir::Graph& graph, const ir::Node& node);

// The node's attribute `name` when present with type T; nullopt otherwise.
template <class T>
std::optional<T> attribute(const ir::Node& node, const char* name) {
  const auto it = node.attributes.find(name);
  if (it == node.attributes.end()) return std::nullopt;
  const T* value = std::get_if<T>(&it->second);
  return value ? std::optional<T>(*value) : std::nullopt;
}

bool is_op(const ir::Node& node, const char* op_type, const char* domain = "");

// Removes the `op_type` nodes (default domain) whose outputs nothing reads and no graph output is:
// what a fusion that took their readers leaves behind.
void remove_unread(ir::Graph& graph, const char* op_type);

// Ops whose outputs differ from run to run: never computed ahead nor merged.
bool is_random(const ir::Node& node);
bool has_subgraph(const ir::Node& node);
// Same dtype, shape and bytes.
bool same_tensor(const Tensor& a, const Tensor& b);
// The initializer `name` when it is a float32 tensor; null otherwise.
const Tensor* float_initializer(const ir::Graph& graph, const std::string& name);

// The float32 value of a one-element constant (initializer or Constant node); nullopt otherwise.
std::optional<float> scalar_constant(const ir::Graph& graph, const std::string& name);
// The input of a two-input node that is not `value` (the other operand), or nullopt when the node
// does not read `value` or reads it twice.
std::optional<std::string> other_operand(const ir::Node& node, const std::string& value);

// The rewrites of a pass that replaces whole subgraphs with one kiln-domain node each.
class SubgraphFusion {
 public:
  explicit SubgraphFusion(ir::Model& model) : model_(model) {}
  // Node `keep` (the subgraph's last, whose outputs it keeps) becomes kiln.<op_type>(inputs)
  // with `attributes`, under its own name; the nodes `others` are removed by finish().
  void fuse(size_t keep, const char* op_type, std::vector<std::string> inputs,
            std::map<std::string, ir::Attribute> attributes, const std::vector<size_t>& others);
  // Removes the replaced nodes and returns how many subgraphs were fused.
  int finish();

 private:
  ir::Model& model_;
  std::vector<size_t> removed_;
  int fused_ = 0;
};

// The value of `name` when it is known before any run: an initializer, or the `value` of a
// Constant node. Null otherwise.
const Tensor* constant_value(const ir::Graph& graph, const std::string& name);

}  // namespace kiln::passes
