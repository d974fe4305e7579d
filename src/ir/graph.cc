#include "ir/graph.h"

#include <unordered_set>

namespace kiln::ir {

std::string dims_to_string(const std::vector<Dim>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dims[i].is_static() ? std::to_string(dims[i].size) : (dims[i].symbol.empty() ? "?" : dims[i].symbol);
  }
  return s + "]";
}

const char* attribute_kind_name(const Attribute& a) {
  static const char* const names[] = {"float", "int", "string", "tensor", "graph",
                                      "floats", "ints", "strings", "tensors", "graphs"};
  return names[a.index()];
}

std::string Node::describe() const {
  std::string op = domain.empty() || domain == "ai.onnx" ? op_type : domain + "." + op_type;
  return "node '" + name + "' (" + op + ")";
}

std::unordered_map<std::string, size_t> Graph::producers() const {
  std::unordered_map<std::string, size_t> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (!o.empty()) out.emplace(o, i);
  return out;
}

void Graph::validate() const {
  std::unordered_set<std::string> defined;
  for (const auto& v : inputs) {
    if (v.name.empty()) throw Error(ErrorCode::InvalidModel, "graph input with an empty name");
    if (!defined.insert(v.name).second)
      throw Error(ErrorCode::InvalidModel, "graph input '" + v.name + "' is declared twice");
  }
  for (const auto& [init_name, t] : initializers) {
    if (!defined.insert(init_name).second)
      throw Error(ErrorCode::InvalidModel, "initializer '" + init_name + "' has the same name as a graph input");
  }
  for (const auto& n : nodes) {
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (!defined.insert(o).second)
        throw Error(ErrorCode::InvalidModel, n.describe() + " output '" + o + "' is already defined elsewhere");
    }
  }
  for (const auto& n : nodes)
    for (const auto& in : n.inputs)
      if (!in.empty() && !defined.count(in))
        throw Error(ErrorCode::InvalidModel, n.describe() + " input '" + in +
                                                 "' is neither a graph input, an initializer nor a node output");
  for (const auto& v : outputs)
    if (!defined.count(v.name))
      throw Error(ErrorCode::InvalidModel, "graph output '" + v.name + "' is never produced");
  topological_order();
}

std::vector<size_t> Graph::topological_order() const {
  const auto producer = producers();
  // Kahn's algorithm over node -> consumer edges, stable with respect to the file's node order.
  std::vector<size_t> pending(nodes.size(), 0);
  std::vector<std::vector<size_t>> consumers(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::unordered_set<size_t> seen;
    for (const auto& in : nodes[i].inputs) {
      if (in.empty()) continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        if (!initializers.count(in) && !find_value(in))
          throw Error(ErrorCode::InvalidModel, nodes[i].describe() + " input '" + in + "' is not defined");
        continue;
      }
      if (seen.insert(it->second).second) {
        ++pending[i];
        consumers[it->second].push_back(i);
      }
    }
  }
  std::vector<size_t> order, ready;
  for (size_t i = nodes.size(); i-- > 0;)
    if (pending[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    const size_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (size_t c : consumers[i])
      if (--pending[c] == 0) ready.push_back(c);
  }
  if (order.size() != nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (pending[i] != 0) throw Error(ErrorCode::InvalidModel, "the graph has a cycle through " + nodes[i].describe());
  }
  return order;
}

std::optional<Value> Graph::find_value(const std::string& value_name) const {
  for (const auto& v : inputs)
    if (v.name == value_name) return v;
  for (const auto& v : outputs)
    if (v.name == value_name && v.dtype != DType::Undefined) return v;
  if (auto it = value_info.find(value_name); it != value_info.end()) return it->second;
  if (auto it = initializers.find(value_name); it != initializers.end()) {
    Value v{value_name, it->second.dtype(), std::vector<Dim>{}};
    for (int64_t d : it->second.shape()) v.shape->push_back({d, {}});
    return v;
  }
  return std::nullopt;
}

int64_t Model::opset(const std::string& op_domain) const {
  const std::string key = op_domain == "ai.onnx" ? "" : op_domain;
  auto it = opset_imports.find(key);
  if (it == opset_imports.end())
    throw Error(ErrorCode::InvalidModel, "the model uses domain '" + (key.empty() ? std::string("ai.onnx") : key) +
                                             "' but imports no opset for it");
  return it->second;
}

}  // namespace kiln::ir
