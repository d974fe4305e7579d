// `kiln info MODEL`: inputs, outputs, opsets, op histogram and parameter count.
#include <iostream>
#include <map>

#include "commands.h"
#include "onnx/importer.h"

namespace kiln::cli {
namespace {

void print_values(const char* title, const std::vector<ir::Value>& values) {
  std::cout << title << ":\n";
  for (const auto& v : values)
    std::cout << "  " << v.name << ": " << dtype_name(v.dtype) << " "
              << (v.shape ? ir::dims_to_string(*v.shape) : std::string("(rank unknown)")) << "\n";
}

void run_info(const std::string& path) {
  const ir::Model model = onnx_io::load_model(path);
  const ir::Graph& g = model.graph;
  std::cout << "model: " << path << "\n";
  std::cout << "producer: " << (model.producer_name.empty() ? "(none)" : model.producer_name) << " "
            << model.producer_version << ", IR version " << model.ir_version << "\n";
  std::cout << "opsets:";
  for (const auto& [domain, version] : model.opset_imports)
    std::cout << " " << (domain.empty() ? "ai.onnx" : domain) << "=" << version;
  std::cout << "\n";
  print_values("inputs", g.inputs);
  std::vector<ir::Value> outputs;
  for (const auto& o : g.outputs) outputs.push_back(o.dtype == DType::Undefined ? g.find_value(o.name).value_or(o) : o);
  print_values("outputs", outputs);
  int64_t params = 0;
  size_t param_bytes = 0;
  for (const auto& [name, t] : g.initializers) {
    params += t.numel();
    param_bytes += t.nbytes();
  }
  std::cout << "parameters: " << params << " in " << g.initializers.size() << " initializers (" << param_bytes
            << " bytes)\n";
  std::map<std::string, int> histogram;
  for (const auto& n : g.nodes) histogram[n.domain.empty() ? n.op_type : n.domain + "." + n.op_type]++;
  std::cout << "nodes: " << g.nodes.size() << "\n";
  for (const auto& [op, count] : histogram) std::cout << "  " << op << ": " << count << "\n";
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show a model's inputs, outputs, opsets, op histogram and parameter count");
  auto path = std::make_shared<std::string>();
  cmd->add_option("model", *path, "ONNX model file")->required()->check(CLI::ExistingFile);
  cmd->callback([path] { run_info(*path); });
}

}  // namespace kiln::cli
