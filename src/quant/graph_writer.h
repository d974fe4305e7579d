// Adds the quantizers' nodes and initializers to a graph: fresh names that collide neither with
// the graph's nor with each other's, new nodes held back until commit() so that callers may walk
// the graph's nodes while adding, then the graph cleaned (initializers no one reads dropped) and
// put back in topological order, as ONNX files must be.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::quant {

class GraphWriter {
 public:
  explicit GraphWriter(ir::Graph& graph) : graph_(graph) {}

  ir::Graph& graph() { return graph_; }
  // A value name not used in the graph nor handed out before, from `base`.
  std::string fresh(const std::string& base);
  // Adds an initializer under a fresh name made from `base`; returns the name.
  std::string add_initializer(const std::string& base, Tensor value);
  // A node to add at commit(); the reference stays valid until then.
  ir::Node& add_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                     std::vector<std::string> outputs);
  void commit();

 private:
  ir::Graph& graph_;
  std::set<std::string> handed_out_;
  std::deque<ir::Node> pending_;  // a deque: add_node's references stay valid
};

}  // namespace kiln::quant
