// Helpers for kernel tests: run one node through the real plan/executor, and compare tensors.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "random_tensor.h"
#include "runtime/plan.h"

namespace kiln::testing {

struct NodeSpec {
  std::string op;
  std::vector<Tensor> inputs;  // an undefined Tensor() is an absent optional input
  std::map<std::string, ir::Attribute> attributes;
  int64_t opset = 17;
  size_t outputs = 1;
  std::string domain;
  // Inputs listed here become initializers (constants at session creation), as weights are.
  std::vector<size_t> constant_inputs;
  // Session options: differential tests run the same node at every CPU level and thread count.
  std::string cpu_level;
  int threads = 1;
};

// Builds a one-node model, runs it through runtime::Plan and returns its outputs.
inline std::vector<Tensor> run_node(const NodeSpec& spec) {
  ir::Model model;
  model.opset_imports[spec.domain] = spec.opset;
  if (!spec.domain.empty()) model.opset_imports[""] = spec.opset;
  ir::Node node{spec.op + "_under_test", spec.op, spec.domain, {}, {}, spec.attributes};
  std::map<std::string, Tensor> feeds;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    if (!spec.inputs[i].defined()) {
      node.inputs.push_back("");
      continue;
    }
    const std::string name = "x" + std::to_string(i);
    node.inputs.push_back(name);
    const bool constant = std::find(spec.constant_inputs.begin(), spec.constant_inputs.end(), i) != spec.constant_inputs.end();
    if (constant) {
      model.graph.initializers[name] = spec.inputs[i];
    } else {
      ir::Value v{name, spec.inputs[i].dtype(), std::vector<ir::Dim>{}};
      for (int64_t d : spec.inputs[i].shape()) v.shape->push_back({d, {}});
      model.graph.inputs.push_back(v);
      feeds[name] = spec.inputs[i];
    }
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < spec.outputs; ++i) {
    names.push_back("y" + std::to_string(i));
    node.outputs.push_back(names.back());
    model.graph.outputs.push_back({names.back(), DType::Undefined, std::nullopt});
  }
  model.graph.nodes.push_back(node);
  SessionOptions options;
  options.cpu_level = spec.cpu_level;
  options.threads = spec.threads;
  runtime::Plan plan(std::move(model), options);
  return plan.run(feeds, names);
}

// Asserts same dtype and shape, and every element within atol + rtol * |expected|.
inline void expect_tensor_near(const Tensor& actual, const Tensor& expected, double atol = 1e-5, double rtol = 1e-5) {
  ASSERT_EQ(actual.dtype(), expected.dtype());
  ASSERT_EQ(actual.shape(), expected.shape());
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.value_as_double(i), e = expected.value_as_double(i);
    if ((std::isnan(a) && std::isnan(e)) || a == e) continue;  // a == e: equal infinities
    ASSERT_LE(std::abs(a - e), atol + rtol * std::abs(e)) << "at element " << i << ": " << a << " vs " << e;
  }
}

// Asserts that running `spec` throws a kiln::Error whose message contains `fragment` and, when
// given, whose code is `code`.
inline void expect_node_error(const NodeSpec& spec, std::optional<ErrorCode> code, const std::string& fragment) {
  try {
    run_node(spec);
    ADD_FAILURE() << spec.op << ": expected an error containing '" << fragment << "'";
  } catch (const Error& e) {
    if (code) {
      EXPECT_EQ(error_code_name(e.code()), std::string(error_code_name(*code))) << e.what();
    }
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

inline void expect_error_containing(const NodeSpec& spec, const std::string& text) {
  expect_node_error(spec, std::nullopt, text);
}

}  // namespace kiln::testing
