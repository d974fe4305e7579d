// The QuantizeLinear and DequantizeLinear nodes of an optimized graph that no fusion took into an
// 8-bit kernel, so that the ops between them run in float: what `kiln run -v` and `kiln info
// --plan` warn about (Session::optimizer_warnings). The graph's own ends are not warned about: a Q
// of a graph input quantizes the model's input, and a DQ that writes a graph output dequantizes its
// result.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::passes {

// One message per unfused node, naming it and the float node beside it.
std::vector<std::string> unfused_qdq_warnings(const ir::Graph& graph);

}  // namespace kiln::passes
