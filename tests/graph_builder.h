// Graphs for pass and multi-node tests: float inputs fed at run time, initializers, nodes and
// outputs, run through the real plan at a chosen optimization level, CPU level and thread count.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "passes/pass_manager.h"
#include "runtime/plan.h"
#include "test_util.h"

namespace kiln::testing {

struct GraphBuilder {
  ir::Model model;
  std::map<std::string, Tensor> feeds;

  GraphBuilder() { model.opset_imports[""] = 17; }
  void input(const std::string& name, const Tensor& value) {
    ir::Value v{name, DType::Float32, std::vector<ir::Dim>{}};
    for (int64_t d : value.shape()) v.shape->push_back({d, {}});
    model.graph.inputs.push_back(v);
    feeds[name] = value;
  }
  void constant(const std::string& name, const Tensor& value) { model.graph.initializers[name] = value; }
  // The node, for setting what the arguments do not (a domain).
  ir::Node& node(const std::string& op, std::vector<std::string> inputs, const std::string& output,
                 std::map<std::string, ir::Attribute> attributes = {}) {
    return model.graph.nodes.emplace_back(
        ir::Node{output + "_node", op, "", std::move(inputs), {output}, std::move(attributes)});
  }
  void output(const std::string& name) { model.graph.outputs.push_back({name, DType::Float32, std::nullopt}); }

  std::vector<Tensor> run(int level, CpuLevel cpu_level = default_cpu_level(), int threads = 1) const {
    SessionOptions options;
    options.optimization_level = level;
    options.cpu_level = cpu_level_name(cpu_level);
    options.threads = threads;
    runtime::Plan plan(model, options);
    std::vector<std::string> names;
    for (const auto& o : model.graph.outputs) names.push_back(o.name);
    return plan.run(feeds, names);
  }
  ir::Model optimized(int level, CpuLevel cpu_level = default_cpu_level()) const {
    ir::Model copy = model;
    passes::optimize(copy, {level, cpu_level});
    copy.graph.validate();
    return copy;
  }
  std::vector<std::string> optimized_ops(int level, CpuLevel cpu_level = default_cpu_level()) const {
    std::vector<std::string> ops;
    for (const auto& n : optimized(level, cpu_level).graph.nodes) ops.push_back(n.op_type);
    return ops;
  }
  // Runs at `level` and unoptimized (level 0) and expects the same outputs within `tolerance`.
  void expect_matches_unoptimized(int level, double tolerance, CpuLevel cpu_level = default_cpu_level(),
                                  int threads = 1) const {
    const auto unoptimized = run(0, cpu_level, threads), optimized = run(level, cpu_level, threads);
    ASSERT_EQ(unoptimized.size(), optimized.size());
    for (size_t i = 0; i < optimized.size(); ++i) {
      SCOPED_TRACE(::testing::Message() << "output " << i << " at level " << level << ", " << cpu_level_name(cpu_level)
                                        << ", " << threads << " threads");
      expect_tensor_near(optimized[i], unoptimized[i], tolerance, tolerance);
    }
  }
};

}  // namespace kiln::testing
