// Models the engine-file and profiler tests build, run and compare: one that reaches every kernel
// that prepares weights (NCHWc and NCHW convolutions, depthwise and pointwise, the fused
// pointwise+depthwise pair, Gemm, FusedMatMul with a bias) and has an overridable initializer.
#pragma once

#include <map>
#include <string>

#include "onnx_builder.h"
#include "random_tensor.h"

namespace kiln::testing {

inline onnx::TensorProto random_initializer(const std::string& name, const Shape& shape, uint32_t seed) {
  const Tensor t = random_tensor(shape, seed);
  return float_tensor(name, shape, float_values(t), true);
}

// x [N, 8, 6, 6] -> 1x1 Conv -> Relu -> depthwise 3x3 Conv -> Relu -> GlobalAveragePool ->
// Flatten -> MatMul + Add -> y [N, 5];  z [N, 4, 16] -> MatMul + Add -> Relu -> w [N, 4, 8];
// v = z * scale, with scale an initializer listed as an input (overridable, default 2).
inline onnx::ModelProto make_mixed_model() {
  onnx::ModelProto model = make_model(13);
  model.set_producer_version("7.1");
  model.set_domain("test.kiln");
  model.set_doc_string("a model for engine tests");
  model.set_model_version(42);
  auto* prop = model.add_metadata_props();
  prop->set_key("purpose");
  prop->set_value("tests");
  auto& g = *model.mutable_graph();
  g.set_doc_string("the main graph");
  add_input(g, "x", onnx::TensorProto::FLOAT, {"N", 8, 6, 6});
  add_input(g, "z", onnx::TensorProto::FLOAT, {"N", 4, 16});
  add_input(g, "scale", onnx::TensorProto::FLOAT, {1});
  add_initializer(g, float_tensor("scale", {1}, {2.f}));
  add_initializer(g, random_initializer("w1", {16, 8, 1, 1}, 1));
  add_initializer(g, random_initializer("b1", {16}, 2));
  add_initializer(g, random_initializer("w2", {16, 1, 3, 3}, 3));
  add_initializer(g, random_initializer("b2", {16}, 4));
  add_initializer(g, random_initializer("w3", {16, 5}, 5));
  add_initializer(g, random_initializer("b3", {5}, 6));
  add_initializer(g, random_initializer("w4", {16, 8}, 7));
  add_initializer(g, random_initializer("b4", {8}, 8));
  add_node(g, "Conv", {"x", "w1", "b1"}, {"c1"}, "pointwise");
  add_node(g, "Relu", {"c1"}, {"r1"}, "relu1");
  auto& depthwise = add_node(g, "Conv", {"r1", "w2", "b2"}, {"c2"}, "depthwise");
  add_int_attribute(depthwise, "group", 16);
  auto& pads = add_attribute(depthwise, "pads", onnx::AttributeProto::INTS);
  for (int p : {1, 1, 1, 1}) pads.add_ints(p);
  add_node(g, "Relu", {"c2"}, {"r2"}, "relu2");
  add_node(g, "GlobalAveragePool", {"r2"}, {"pooled"}, "pool");
  add_node(g, "Flatten", {"pooled"}, {"flat"}, "flatten");
  add_node(g, "MatMul", {"flat", "w3"}, {"m3"}, "head");
  add_node(g, "Add", {"m3", "b3"}, {"y"}, "head_bias");
  add_node(g, "MatMul", {"z", "w4"}, {"m4"}, "proj");
  add_node(g, "Add", {"m4", "b4"}, {"a4"}, "proj_bias");
  add_node(g, "Relu", {"a4"}, {"w"}, "proj_relu");
  add_node(g, "Mul", {"z", "scale"}, {"v"}, "scaled");
  for (const char* out : {"y", "w", "v"}) add_output(g, out);
  return model;
}

inline std::map<std::string, Tensor> mixed_model_feeds(int64_t batch, uint32_t seed) {
  return {{"x", random_tensor({batch, 8, 6, 6}, seed)}, {"z", random_tensor({batch, 4, 16}, seed + 1)}};
}

}  // namespace kiln::testing
