// Kiln's graph IR. Values are named (as in ONNX) and carry a dtype and an optional shape whose
// dims may be symbolic. Nodes refer to values by name; an empty input name is an absent optional
// input. The graph is plain data: passes edit it directly and call the helpers below.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::ir {

class Graph;

// A dimension: a known size (>= 0), or unknown, optionally named by a symbol ("batch").
struct Dim {
  int64_t size = -1;
  std::string symbol;
  bool is_static() const { return size >= 0; }
};

struct Value {
  std::string name;
  DType dtype = DType::Undefined;
  std::optional<std::vector<Dim>> shape;  // nullopt: rank unknown
};

std::string dims_to_string(const std::vector<Dim>& dims);

using Attribute = std::variant<float, int64_t, std::string, Tensor, std::shared_ptr<Graph>, std::vector<float>,
                               std::vector<int64_t>, std::vector<std::string>, std::vector<Tensor>,
                               std::vector<std::shared_ptr<Graph>>>;

// The kind names used in error messages ("ints", "tensor", ...), indexed like Attribute.
const char* attribute_kind_name(const Attribute& a);

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" is the default ONNX domain (ai.onnx)
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attributes;

  // "node 'conv1' (Conv)": how errors name a node.
  std::string describe() const;
};

class Graph {
 public:
  std::string name;
  std::string doc_string;
  std::vector<Node> nodes;
  std::vector<Value> inputs;   // graph inputs the caller feeds (initializers excluded)
  // Inputs that have a value when the caller feeds none (ONNX's initializers that are also graph
  // inputs, IR version 4 on): not constants, since a run may replace them.
  std::map<std::string, Tensor> input_defaults;
  std::vector<Value> outputs;
  std::map<std::string, Value> value_info;  // dtype/shape of intermediate values, where known
  std::map<std::string, Tensor> initializers;

  // Indices into `nodes` such that every node comes after the producers of its inputs.
  // Throws InvalidModel naming the node on a cycle or an input no one produces.
  std::vector<size_t> topological_order() const;
  // Checks single assignment, that every used value is defined, and that the graph is acyclic.
  void validate() const;
  // Dtype/shape of any value: graph input or output, initializer, or value_info; nullopt if unknown.
  std::optional<Value> find_value(const std::string& value_name) const;
  // Map from value name to the index of the node producing it.
  std::unordered_map<std::string, size_t> producers() const;
};

struct Model {
  Graph graph;
  std::map<std::string, int64_t> opset_imports;  // domain -> version; "" is ai.onnx
  int64_t ir_version = 0;
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  std::string doc_string;
  int64_t model_version = 0;
  std::map<std::string, std::string> metadata_props;

  // The opset version the model imports for `domain` ("ai.onnx" and "" are the same domain).
  // Throws InvalidModel when the domain has no opset import.
  int64_t opset(const std::string& op_domain) const;
};

}  // namespace kiln::ir
