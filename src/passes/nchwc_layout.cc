#include "passes/nchwc_layout.h"

#include <map>
#include <set>

#include "ir/graph_edit.h"
#include "ops/cpu/fused_activation.h"
#include "passes/match.h"

namespace kiln::passes {
namespace {

bool is_nchwc_op(const ir::Node& node) { return node.domain == kKilnDomain && node.op_type.starts_with("Nchwc"); }

// A Conv or kiln.FusedConv that kiln.NchwcConv computes, X and Z aside: constant float weights
// [M, C / group, kh, kw] and bias, group 1 with at least `block` input or output channels or
// depthwise (one filter per channel), strides 1 or 2, explicit pads.
bool is_nchwc_conv_candidate(const ir::Graph& g, const ir::Node& node, int64_t block) {
  if (!(is_op(node, "Conv") || is_op(node, "FusedConv", kKilnDomain)) || node.inputs.size() < 2 ||
      node.outputs.size() != 1)
    return false;
  const auto w = g.initializers.find(node.inputs[1]);
  if (w == g.initializers.end() || w->second.dtype() != DType::Float32 || w->second.rank() != 4) return false;
  if (node.inputs.size() > 2 && !node.inputs[2].empty() && !g.initializers.count(node.inputs[2])) return false;
  const int64_t group = attribute<int64_t>(node, "group").value_or(1);
  const int64_t filters = w->second.dim(0), channels_per_group = w->second.dim(1);
  const bool dense = group == 1 && (channels_per_group >= block || filters >= block);
  const bool depthwise = group == filters && channels_per_group == 1 && group >= block;
  if (!dense && !depthwise) return false;
  if (attribute<std::string>(node, "auto_pad").value_or("NOTSET") != "NOTSET") return false;
  const auto strides = attribute<std::vector<int64_t>>(node, "strides").value_or(std::vector<int64_t>{1, 1});
  return strides.size() == 2 && (strides[0] == 1 || strides[0] == 2) && (strides[1] == 1 || strides[1] == 2);
}

// The NCHWc op a 2-D pool becomes, or null for a node that is not such a pool.
const char* nchwc_pool_op(const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.size() != 1 || node.outputs.size() != 1) return nullptr;
  if (node.op_type == "GlobalAveragePool") return "NchwcGlobalAveragePool";
  if (node.op_type == "GlobalMaxPool") return "NchwcGlobalMaxPool";
  const auto kernel = attribute<std::vector<int64_t>>(node, "kernel_shape");
  const std::string auto_pad = attribute<std::string>(node, "auto_pad").value_or("NOTSET");
  if (!kernel || kernel->size() != 2 || (auto_pad != "NOTSET" && auto_pad != "VALID")) return nullptr;
  if (node.op_type == "MaxPool") return "NchwcMaxPool";
  if (node.op_type == "AveragePool") return "NchwcAveragePool";
  return nullptr;
}

bool is_binary_nchwc_op(const ir::Node& node) {
  return node.domain.empty() && node.inputs.size() == 2 && node.outputs.size() == 1 &&
         (node.op_type == "Add" || node.op_type == "Sub" || node.op_type == "Mul");
}

// The activations the fusions know, which map finite values to finite values.
bool is_unary_nchwc_op(const ir::Node& node) {
  return node.domain.empty() && !node.inputs.empty() && node.outputs.size() == 1 &&
         ops::fusable_activation_kind(node) != kernels::ActivationKind::None;
}

// One walk over the graph in topological order, building the rewritten node list.
class Rewrite {
 public:
  Rewrite(ir::Model& model, int64_t block) : model_(model), g_(model.graph), block_(block) {}

  // The number of nodes converted to NCHWc.
  int run() {
    for (size_t index : g_.topological_order()) {
      ir::Node node = g_.nodes[index];
      if (convert(node))
        ++converted_;
      else
        for (const std::string& input : node.inputs) provide_nchw(input);
      nodes_.push_back(std::move(node));
    }
    if (twins_.empty()) return 0;
    for (const ir::Value& output : g_.outputs) provide_nchw(output.name);
    g_.nodes = std::move(nodes_);
    import_kiln_domain(model_);
    return converted_;
  }

 private:
  // The NCHWc form of a value, and its real channel count (the rest of its last block is padding).
  struct Twin {
    std::string name;
    int64_t channels;
  };

  const Twin* twin(const std::string& value) const {
    const auto it = twins_.find(value);
    return it == twins_.end() ? nullptr : &it->second;
  }

  bool convert(ir::Node& node) {
    if (is_nchwc_conv_candidate(g_, node, block_)) return convert_conv(node);
    if (const char* op = nchwc_pool_op(node); op && twin(node.inputs[0])) {
      const Twin x = *twin(node.inputs[0]);
      node.op_type = op;
      node.domain = kKilnDomain;
      node.attributes["block"] = block_;
      node.inputs[0] = x.name;
      node.outputs[0] = make_twin(node.outputs[0], x.channels);
      return true;
    }
    if (const auto channels = elementwise_channels(node)) {
      for (std::string& input : node.inputs)
        if (const Twin* t = twin(input)) input = t->name;
      node.outputs[0] = make_twin(node.outputs[0], *channels);
      return true;
    }
    return false;
  }

  bool convert_conv(ir::Node& node) {
    const Tensor& w = g_.initializers.at(node.inputs[1]);
    const int64_t filters = w.dim(0);
    const int64_t group = attribute<int64_t>(node, "group").value_or(1);
    const bool has_residual = node.inputs.size() > 3 && !node.inputs[3].empty();
    // Z must have the output's channels in NCHWc: a twin of that count, or a constant [., M, ., .].
    // Anything else may broadcast over channels, which NCHWc cannot express, so the node stays.
    const int64_t channels = w.dim(1) * group;
    if (has_residual) {
      const Twin* z = twin(node.inputs[3]);
      const auto constant = g_.initializers.find(node.inputs[3]);
      const bool full_channels =
          z                                     ? z->channels == filters
          : node.inputs[3] == node.inputs[0]    ? channels == filters  // X itself, as X's reorder will carry it
          : constant != g_.initializers.end() ? constant->second.rank() == 4 && constant->second.dim(1) == filters
                                                : false;
      if (!full_channels) return false;
    }
    if (group == 1 && channels < block_ && !twin(node.inputs[0]))
      node.attributes["nchw_input"] = int64_t{1};
    else
      node.inputs[0] = nchwc_input(node.inputs[0], channels);
    if (has_residual) node.inputs[3] = nchwc_input(node.inputs[3], filters);
    node.op_type = "NchwcConv";
    node.domain = kKilnDomain;
    node.attributes["block"] = block_;
    node.outputs[0] = make_twin(node.outputs[0], filters);
    return true;
  }

  // The channel count of an elementwise op's NCHWc result, when every input it reads at run time
  // has a twin (binary: both of one channel count, or one and a scalar constant).
  std::optional<int64_t> elementwise_channels(const ir::Node& node) const {
    if (node.inputs.empty()) return std::nullopt;  // Constant
    const Twin* x = twin(node.inputs[0]);
    if (is_unary_nchwc_op(node)) {
      if (!x) return std::nullopt;
      for (size_t i = 1; i < node.inputs.size(); ++i)  // Clip's bounds
        if (!node.inputs[i].empty() && !constant_value(g_, node.inputs[i])) return std::nullopt;
      return x->channels;
    }
    if (!is_binary_nchwc_op(node)) return std::nullopt;
    const Twin* y = twin(node.inputs[1]);
    if (x && y) return x->channels == y->channels ? std::optional<int64_t>(x->channels) : std::nullopt;
    const Twin* blocked = x ? x : y;
    const Tensor* other = constant_value(g_, node.inputs[x ? 1 : 0]);
    // A scalar of rank above 4 would change the result's rank.
    if (!blocked || !other || other->numel() != 1 || other->rank() > 4) return std::nullopt;
    return blocked->channels;
  }

  // Names the NCHWc twin of `value`, which `value`'s converted producer now writes instead.
  std::string make_twin(const std::string& value, int64_t channels) {
    const std::string name = ir::unique_value_name(g_, value + ".nchwc");
    twins_[value] = {name, channels};
    g_.value_info[name] = {name, DType::Float32, std::nullopt};
    missing_nchw_.insert(value);
    return name;
  }

  // The twin of `value` for a converted reader, reordering it into NCHWc when it has none.
  std::string nchwc_input(const std::string& value, int64_t channels) {
    if (const Twin* t = twin(value)) return t->name;
    const std::string name = make_twin(value, channels);
    missing_nchw_.erase(value);  // its producer still writes NCHW
    nodes_.push_back({name + "_reorder", "NchwcReorderInput", kKilnDomain, {value}, {name},
                      {{"block", block_}, {"channels", channels}}});
    return name;
  }

  // Makes `value` available in NCHW for a reader that is not converted, once per value.
  void provide_nchw(const std::string& value) {
    if (!missing_nchw_.erase(value)) return;
    const Twin& t = twins_.at(value);
    nodes_.push_back({value + "_reorder", "NchwcReorderOutput", kKilnDomain, {t.name}, {value},
                      {{"block", block_}, {"channels", t.channels}}});
  }

  ir::Model& model_;
  ir::Graph& g_;
  int64_t block_;
  std::vector<ir::Node> nodes_;           // the rewritten graph, in topological order
  std::map<std::string, Twin> twins_;     // NCHW value name -> its NCHWc twin
  std::set<std::string> missing_nchw_;    // values whose NCHW form nothing produces yet
  int converted_ = 0;
};

}  // namespace

int NchwcLayout::run(ir::Model& model) const {
  // The layout is decided once, for the whole graph: a second walk would take the reorders it
  // inserted for chain boundaries and reorder back across them.
  for (const ir::Node& node : model.graph.nodes)
    if (is_nchwc_op(node)) return 0;
  return Rewrite(model, block_).run();
}

}  // namespace kiln::passes
