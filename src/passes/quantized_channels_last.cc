#include "passes/quantized_channels_last.h"

#include "ir/graph_edit.h"
#include "passes/match.h"
#include "passes/qdq_match.h"

namespace kiln::passes {
namespace {

const std::vector<int64_t> kToChannelsLast = {0, 2, 3, 1};
const std::vector<int64_t> kToChannelsFirst = {0, 3, 1, 2};

ir::Node transpose(const std::string& name, const std::string& input, const std::string& output,
                   const std::vector<int64_t>& perm) {
  return ir::Node{name, "Transpose", "", {input}, {output}, {{"perm", perm}}};
}

// The value's dtype, kept for a value that now has another layout.
DType dtype_of_value(const ir::Graph& g, const std::string& name) {
  const auto value = g.find_value(name);
  return value ? value->dtype : DType::Undefined;
}

bool takes_channels_last(const ir::Graph& g, const ir::Node& node) {
  if (!is_op(node, "QLinearConv") || node.inputs.size() < 8 || node.outputs.size() != 1) return false;
  const auto w = g.initializers.find(node.inputs[3]);
  if (w == g.initializers.end() || w->second.rank() != 4) return false;
  return node.inputs[5].empty() || g.initializers.count(node.inputs[5]);
}

// An 8-bit MaxPool (between int8 convolutions) of 2-D windows and one output.
bool max_pool_takes_channels_last(const ir::Graph& g, const std::unordered_map<std::string, size_t>& producers,
                                  const ir::Node& node) {
  if (!is_op(node, "MaxPool") || node.outputs.size() != 1 || node.inputs.empty()) return false;
  const auto kernel = attribute<std::vector<int64_t>>(node, "kernel_shape");
  return kernel && kernel->size() == 2 && is_integer_8bit(value_dtype(g, producers, node.inputs[0]));
}


}  // namespace

int QuantizedChannelsLast::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<ir::Node> added;
  for (ir::Node& node : g.nodes) {
    if (!takes_channels_last(g, node) && !max_pool_takes_channels_last(g, producers, node)) continue;
    const std::string x = node.inputs[0], y = node.outputs[0];
    const std::string x_nhwc = ir::unique_value_name(g, x + "_nhwc"), y_nhwc = ir::unique_value_name(g, y + "_nhwc");
    g.value_info[x_nhwc] = {x_nhwc, dtype_of_value(g, x), std::nullopt};
    g.value_info[y_nhwc] = {y_nhwc, dtype_of_value(g, y), std::nullopt};
    added.push_back(transpose(node.name + "_to_nhwc", x, x_nhwc, kToChannelsLast));
    added.push_back(transpose(node.name + "_to_nchw", y_nhwc, y, kToChannelsFirst));
    node.domain = kKilnDomain;
    node.attributes["channels_last"] = int64_t{1};
    node.inputs[0] = x_nhwc;
    node.outputs[0] = y_nhwc;
  }
  if (added.empty()) return 0;
  const int converted = static_cast<int>(added.size() / 2);
  for (ir::Node& node : added) g.nodes.push_back(std::move(node));
  import_kiln_domain(model);
  return converted;
}

int PushTransposesThroughQLinearAdd::run(ir::Model& model) const {
  ir::Graph& g = model.graph;
  const auto producers = g.producers();
  std::vector<ir::Node> added;
  for (ir::Node& add : g.nodes) {
    if (!is_op(add, "QLinearAdd", kKilnDomain) || add.inputs.size() < 8) continue;
    const auto a = producers.find(add.inputs[0]), b = producers.find(add.inputs[3]);
    if (a == producers.end() || b == producers.end()) continue;
    const ir::Node &ta = g.nodes[a->second], &tb = g.nodes[b->second];
    if (!is_op(ta, "Transpose") || !is_op(tb, "Transpose")) continue;
    const auto perm = attribute<std::vector<int64_t>>(ta, "perm");
    if (!perm || perm != attribute<std::vector<int64_t>>(tb, "perm")) continue;
    const std::string output = add.outputs[0];
    const std::string moved = ir::unique_value_name(g, output + "_nhwc");
    g.value_info[moved] = {moved, dtype_of_value(g, output), std::nullopt};
    add.inputs[0] = ta.inputs[0];
    add.inputs[3] = tb.inputs[0];
    add.outputs[0] = moved;
    added.push_back(transpose(add.name + "_transpose", moved, output, *perm));
  }
  if (added.empty()) return 0;
  const int pushed = static_cast<int>(added.size());
  for (ir::Node& node : added) g.nodes.push_back(std::move(node));
  remove_unread(g, "Transpose");
  return pushed;
}

}  // namespace kiln::passes
