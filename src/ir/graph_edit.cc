#include "ir/graph_edit.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "kiln/error.h"

namespace kiln::ir {

std::vector<size_t> consumers_of(const Graph& graph, const std::string& value) {
  std::vector<size_t> out;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const auto& ins = graph.nodes[i].inputs;
    if (std::find(ins.begin(), ins.end(), value) != ins.end()) out.push_back(i);
  }
  return out;
}

bool is_graph_output(const Graph& graph, const std::string& value) {
  return std::any_of(graph.outputs.begin(), graph.outputs.end(), [&](const Value& v) { return v.name == value; });
}

void replace_uses(Graph& graph, const std::string& from, const std::string& to) {
  for (auto& node : graph.nodes)
    std::replace(node.inputs.begin(), node.inputs.end(), from, to);
  for (auto& out : graph.outputs)
    if (out.name == from) out.name = to;
}

std::string unique_value_name(const Graph& graph, const std::string& base) {
  std::unordered_set<std::string> used;
  for (const auto& v : graph.inputs) used.insert(v.name);
  for (const auto& [name, t] : graph.initializers) used.insert(name);
  for (const auto& n : graph.nodes) used.insert(n.outputs.begin(), n.outputs.end());
  if (!used.count(base)) return base;
  for (int i = 2;; ++i)
    if (std::string candidate = base + "_" + std::to_string(i); !used.count(candidate)) return candidate;
}

bool bypass(Graph& graph, const std::string& value, const std::string& source) {
  if (!is_graph_output(graph, value)) {
    replace_uses(graph, value, source);
    return true;
  }
  if (is_graph_output(graph, source)) return false;
  for (Node& producer : graph.nodes)
    for (std::string& output : producer.outputs)
      if (output == source) {
        output = value;
        for (Node& node : graph.nodes)
          if (&node != &producer) std::replace(node.inputs.begin(), node.inputs.end(), source, value);
        return true;
      }
  return false;
}

namespace {

void add_reads(const Graph& graph, std::unordered_set<std::string>& reads) {
  for (const Node& node : graph.nodes) {
    reads.insert(node.inputs.begin(), node.inputs.end());
    for (const auto& [name, attribute] : node.attributes) {
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&attribute)) add_reads(**sub, reads);
      if (const auto* subs = std::get_if<std::vector<std::shared_ptr<Graph>>>(&attribute))
        for (const auto& s : *subs) add_reads(*s, reads);
    }
  }
  for (const Value& output : graph.outputs) reads.insert(output.name);
}

}  // namespace

std::unordered_set<std::string> read_values(const Graph& graph) {
  std::unordered_set<std::string> reads;
  add_reads(graph, reads);
  reads.erase("");
  return reads;
}

void set_symbolic_dims(Graph& graph, const std::map<std::string, int64_t>& sizes) {
  std::set<std::string> input_symbols;
  for (const Value& v : graph.inputs)
    if (v.shape)
      for (const Dim& d : *v.shape)
        if (!d.symbol.empty()) input_symbols.insert(d.symbol);
  for (const auto& [name, size] : sizes) {
    if (size < 1)
      throw Error(ErrorCode::InvalidArgument, "dim '" + name + "' must be at least 1, got " + std::to_string(size));
    if (input_symbols.count(name)) continue;
    std::string known;
    for (const std::string& s : input_symbols) known += (known.empty() ? "" : ", ") + s;
    throw Error(ErrorCode::InvalidArgument, "no input dim is named '" + name + "'; the inputs' named dims are: " +
                                                (known.empty() ? "none" : known));
  }
  const auto apply = [&](Value& v) {
    if (!v.shape) return;
    for (Dim& d : *v.shape)
      if (const auto it = sizes.find(d.symbol); !d.symbol.empty() && it != sizes.end()) d.size = it->second;
  };
  for (Value& v : graph.inputs) apply(v);
  for (Value& v : graph.outputs) apply(v);
  for (auto& [name, v] : graph.value_info) apply(v);
}

void remove_nodes(Graph& graph, std::vector<size_t> indices) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  for (auto it = indices.rbegin(); it != indices.rend(); ++it)
    graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(*it));
}

}  // namespace kiln::ir
