#include "quant/graph_writer.h"

#include "ir/graph_edit.h"

namespace kiln::quant {

std::string GraphWriter::fresh(const std::string& base) {
  std::string name = ir::unique_value_name(graph_, base);
  for (int n = 2; handed_out_.count(name); ++n) name = ir::unique_value_name(graph_, base + "_" + std::to_string(n));
  handed_out_.insert(name);
  return name;
}

std::string GraphWriter::add_initializer(const std::string& base, Tensor value) {
  const std::string name = fresh(base);
  graph_.initializers.emplace(name, std::move(value));
  return name;
}

ir::Node& GraphWriter::add_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                                std::vector<std::string> outputs) {
  ir::Node node;
  node.op_type = op;
  node.name = name;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  pending_.push_back(std::move(node));
  return pending_.back();
}

void GraphWriter::commit() {
  for (ir::Node& node : pending_) graph_.nodes.push_back(std::move(node));
  pending_.clear();
  const auto read = ir::read_values(graph_);
  std::erase_if(graph_.initializers,
                [&](const auto& entry) { return !read.count(entry.first) && !graph_.input_defaults.count(entry.first); });
  const std::vector<size_t> order = graph_.topological_order();
  std::vector<ir::Node> sorted;
  sorted.reserve(order.size());
  for (size_t index : order) sorted.push_back(std::move(graph_.nodes[index]));
  graph_.nodes = std::move(sorted);
}

}  // namespace kiln::quant
