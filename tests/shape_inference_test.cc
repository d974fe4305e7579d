// Shape inference: the per-op shape functions (static, symbolic and broadcast dims; constant
// shape inputs; hostile nodes answered with unknown), and the driver that merges their answers
// into the graph.
#include <gtest/gtest.h>

#include "ir/graph_edit.h"
#include "ir/shape_inference.h"
#include "kiln/error.h"
#include "ops/shapes/shape_functions.h"

namespace kiln {
namespace {

using Ints = std::vector<int64_t>;

// "batch,3,?" -> dims; "" is a scalar.
ir::Dims dims(const std::string& text) {
  ir::Dims result;
  size_t start = 0;
  while (start < text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    if (item == "?") result.push_back({});
    else if (std::isdigit(static_cast<unsigned char>(item[0]))) result.push_back({std::stoll(item), {}});
    else result.push_back({-1, item});
    start = comma + 1;
  }
  return result;
}

// One node's inputs and the shapes inference gives its outputs, as strings ("[batch,3]", "unknown").
struct ShapeCase {
  ir::Node node;
  int64_t opset = 17;
  std::vector<std::optional<ir::Dims>> inputs;
  std::vector<std::optional<Tensor>> constants;

  explicit ShapeCase(const std::string& op, std::map<std::string, ir::Attribute> attributes = {}, size_t outputs = 1,
                     const std::string& domain = "")
      : node{op + "_node", op, domain, {}, {}, std::move(attributes)} {
    for (size_t i = 0; i < outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  }
  // An input of shape `shape` ("unknown": rank unknown).
  ShapeCase& in(const std::string& shape) {
    node.inputs.push_back("in" + std::to_string(node.inputs.size()));
    inputs.push_back(shape == "unknown" ? std::nullopt : std::optional(dims(shape)));
    constants.emplace_back();
    return *this;
  }
  ShapeCase& ints(const Ints& values) {
    in(std::to_string(values.size()));
    constants.back() = Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values);
    return *this;
  }
  ShapeCase& absent() {
    node.inputs.emplace_back();
    inputs.emplace_back();
    constants.emplace_back();
    return *this;
  }
  std::vector<std::string> outputs() const {
    std::vector<const Tensor*> pointers;
    for (const auto& c : constants) pointers.push_back(c ? &*c : nullptr);
    const ir::OutputShapes shapes = ops::infer_node_shapes({node, opset, inputs, pointers});
    std::vector<std::string> result;
    for (size_t i = 0; i < node.outputs.size(); ++i)
      result.push_back(i < shapes.size() && shapes[i] ? ir::dims_to_string(*shapes[i]) : "unknown");
    return result;
  }
  std::string out() const { return outputs()[0]; }
};

TEST(ShapeFunctions, ElementwiseOpsKeepTheirInputsShape) {
  for (const char* op : {"Relu", "Sigmoid", "Cast", "Identity", "Softmax", "Erf", "Clip", "LeakyRelu"})
    EXPECT_EQ(ShapeCase(op).in("batch,seq,768").out(), "[batch,seq,768]") << op;
  EXPECT_EQ(ShapeCase("Dropout", {}, 2).in("2,3").outputs(), (std::vector<std::string>{"[2,3]", "[2,3]"}));
  EXPECT_EQ(ShapeCase("Gelu", {}, 1, "kiln").in("batch,7").out(), "[batch,7]");
  EXPECT_EQ(ShapeCase("Relu").in("unknown").out(), "unknown");
  EXPECT_EQ(ShapeCase("NoSuchOp").in("2,3").out(), "unknown");
}

TEST(ShapeFunctions, BroadcastStaticAndSymbolicDims) {
  EXPECT_EQ(ShapeCase("Add").in("2,1,4").in("3,1").out(), "[2,3,4]");
  EXPECT_EQ(ShapeCase("Mul").in("batch,seq,8").in("batch,seq,1").out(), "[batch,seq,8]");
  EXPECT_EQ(ShapeCase("Sub").in("1,seq").in("batch,1").out(), "[batch,seq]");
  EXPECT_EQ(ShapeCase("Div").in("?,5").in("4,5").out(), "[4,5]");  // an unknown dim must be 4 or 1
  EXPECT_EQ(ShapeCase("Div").in("?,5").in("1,5").out(), "[?,5]");
  EXPECT_EQ(ShapeCase("Pow").in("n,5").in("m,5").out(), "[?,5]");  // two symbols: either could be 1
  EXPECT_EQ(ShapeCase("Where").in("").in("3,1").in("4").out(), "[3,4]");
  EXPECT_EQ(ShapeCase("Sum").in("2").in("3,2").in("4,1,1").out(), "[4,3,2]");
  EXPECT_EQ(ShapeCase("Equal").in("3").in("4").out(), "unknown");  // clashing static sizes
  EXPECT_EQ(ShapeCase("Add").in("3").in("unknown").out(), "unknown");
}

TEST(ShapeFunctions, MatMulAndGemm) {
  EXPECT_EQ(ShapeCase("MatMul").in("batch,seq,768").in("768,3072").out(), "[batch,seq,3072]");
  EXPECT_EQ(ShapeCase("MatMul").in("2,1,3,4").in("5,4,6").out(), "[2,5,3,6]");
  EXPECT_EQ(ShapeCase("MatMul").in("4").in("4,6").out(), "[6]");
  EXPECT_EQ(ShapeCase("MatMul").in("3,4").in("4").out(), "[3]");
  EXPECT_EQ(ShapeCase("MatMul").in("4").in("4").out(), "[]");
  EXPECT_EQ(ShapeCase("MatMul").in("3,4").in("5,6").out(), "unknown");
  EXPECT_EQ(ShapeCase("MatMul").in("").in("4").out(), "unknown");
  EXPECT_EQ(ShapeCase("Gemm", {{"transA", int64_t{1}}, {"transB", int64_t{1}}}).in("4,m").in("n,4").out(), "[m,n]");
  EXPECT_EQ(ShapeCase("Gemm").in("2,3,4").in("4,5").out(), "unknown");
}

TEST(ShapeFunctions, ConvAndPooling) {
  const std::map<std::string, ir::Attribute> strided = {{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}};
  EXPECT_EQ(ShapeCase("Conv", strided).in("batch,3,224,224").in("64,3,3,3").out(), "[batch,64,112,112]");
  EXPECT_EQ(ShapeCase("Conv", {{"auto_pad", std::string("SAME_UPPER")}}).in("1,3,7,5").in("8,3,3,3").out(), "[1,8,7,5]");
  EXPECT_EQ(ShapeCase("Conv").in("1,3,h,w").in("8,3,3,3").out(), "[1,8,?,?]");
  EXPECT_EQ(ShapeCase("ConvTranspose", {{"strides", Ints{2, 2}}, {"group", int64_t{2}}}).in("1,4,5,5").in("4,3,3,3").out(),
            "[1,6,11,11]");
  EXPECT_EQ(ShapeCase("MaxPool", {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}}, 2)
                .in("n,8,8,8")
                .outputs(),
            (std::vector<std::string>{"[n,8,4,4]", "[n,8,4,4]"}));
  EXPECT_EQ(ShapeCase("AveragePool", {{"kernel_shape", Ints{2}}, {"dilations", Ints{2}}}).in("1,2,9").out(), "[1,2,7]");
  EXPECT_EQ(ShapeCase("GlobalAveragePool").in("n,512,7,7").out(), "[n,512,1,1]");
  // Hostile: a window larger than the input, a kernel_shape of another rank, no spatial dims.
  EXPECT_EQ(ShapeCase("MaxPool", {{"kernel_shape", Ints{9, 9}}}).in("1,1,4,4").out(), "unknown");
  EXPECT_EQ(ShapeCase("MaxPool", {{"kernel_shape", Ints{3}}}).in("1,1,4,4").out(), "unknown");
  EXPECT_EQ(ShapeCase("Conv").in("1,3").in("8,3").out(), "unknown");
}

TEST(ShapeFunctions, NormalizationsKeepXAndReduceTheStatistics) {
  EXPECT_EQ(ShapeCase("BatchNormalization").in("n,3,4,4").in("3").in("3").in("3").in("3").out(), "[n,3,4,4]");
  EXPECT_EQ(ShapeCase("LayerNormalization", {{"axis", int64_t{-1}}}, 3).in("batch,seq,768").in("768").outputs(),
            (std::vector<std::string>{"[batch,seq,768]", "[batch,seq,1]", "[batch,seq,1]"}));
  EXPECT_EQ(ShapeCase("LayerNormalization", {}, 1, "kiln").in("1,768").in("768").in("768").in("seq,768").out(),
            "[seq,768]");  // the skip input broadcasts
}

TEST(ShapeFunctions, ReshapeCopiesZerosAndInfersMinusOne) {
  EXPECT_EQ(ShapeCase("Reshape").in("2,3,4").ints({0, -1}).out(), "[2,12]");
  EXPECT_EQ(ShapeCase("Reshape").in("batch,seq,768").ints({0, 0, 12, 64}).out(), "[batch,seq,12,64]");
  EXPECT_EQ(ShapeCase("Reshape").in("batch,seq,12,64").ints({0, 0, -1}).out(), "[batch,seq,768]");  // symbols cancel
  EXPECT_EQ(ShapeCase("Reshape").in("batch,768").ints({-1, 12, 64}).out(), "[?,12,64]");
  EXPECT_EQ(ShapeCase("Reshape", {{"allowzero", int64_t{1}}}).in("0,3").ints({3, 0}).out(), "[3,0]");
  EXPECT_EQ(ShapeCase("Reshape").in("unknown").ints({5, 2}).out(), "[5,2]");
  EXPECT_EQ(ShapeCase("Reshape").in("2,3").in("2").out(), "unknown");  // the target is not constant
  EXPECT_EQ(ShapeCase("Reshape").in("2,3").ints({-1, -1}).out(), "unknown");
  EXPECT_EQ(ShapeCase("Reshape").in("2,3").ints({0, 0, 0}).out(), "unknown");  // copies a dim X lacks
  EXPECT_EQ(ShapeCase("Reshape").in("2,3").ints({-2, 3}).out(), "unknown");
  EXPECT_EQ(ShapeCase("Reshape").in("2,3").ints({0, -1}).out(), "[2,3]");
}

TEST(ShapeFunctions, FlattenTransposeSqueezeUnsqueezeExpand) {
  EXPECT_EQ(ShapeCase("Flatten").in("n,512,1,1").out(), "[n,512]");
  EXPECT_EQ(ShapeCase("Flatten", {{"axis", int64_t{-2}}}).in("2,3,4,5").out(), "[6,20]");
  EXPECT_EQ(ShapeCase("Flatten", {{"axis", int64_t{0}}}).in("2,3").out(), "[1,6]");
  EXPECT_EQ(ShapeCase("Flatten", {{"axis", int64_t{5}}}).in("2,3").out(), "unknown");
  EXPECT_EQ(ShapeCase("Transpose", {{"perm", Ints{0, 2, 1, 3}}}).in("b,s,h,d").out(), "[b,h,s,d]");
  EXPECT_EQ(ShapeCase("Transpose").in("2,3,4").out(), "[4,3,2]");
  EXPECT_EQ(ShapeCase("Transpose", {{"perm", Ints{0, 0}}}).in("2,3").out(), "unknown");
  EXPECT_EQ(ShapeCase("Squeeze").in("1,n,1,3").ints({0, -2}).out(), "[n,3]");
  EXPECT_EQ(ShapeCase("Squeeze").in("1,3,1").out(), "[3]");
  EXPECT_EQ(ShapeCase("Squeeze").in("1,n").out(), "unknown");  // n may be 1
  EXPECT_EQ(ShapeCase("Squeeze").in("2,3").ints({0}).out(), "unknown");
  ShapeCase old_squeeze("Squeeze", {{"axes", Ints{1}}});
  old_squeeze.opset = 11;
  EXPECT_EQ(old_squeeze.in("4,1").out(), "[4]");
  EXPECT_EQ(ShapeCase("Unsqueeze").in("n,3").ints({0, -1}).out(), "[1,n,3,1]");
  EXPECT_EQ(ShapeCase("Unsqueeze").in("3").ints({0, 0}).out(), "unknown");
  EXPECT_EQ(ShapeCase("Unsqueeze").in("3").ints({5}).out(), "unknown");
  EXPECT_EQ(ShapeCase("Expand").in("n,1").ints({3, 1, 4}).out(), "[3,n,4]");
  EXPECT_EQ(ShapeCase("Expand").in("2,1").ints({3, 4}).out(), "unknown");
}

TEST(ShapeFunctions, ConcatSplitGatherShape) {
  EXPECT_EQ(ShapeCase("Concat", {{"axis", int64_t{1}}}).in("n,2").in("?,3").out(), "[n,5]");
  EXPECT_EQ(ShapeCase("Concat", {{"axis", int64_t{0}}}).in("n,2").in("1,2").out(), "[?,2]");
  EXPECT_EQ(ShapeCase("Concat", {{"axis", int64_t{0}}}).in("1,2").in("1,3").out(), "unknown");
  EXPECT_EQ(ShapeCase("Concat", {{"axis", int64_t{2}}}).in("1,2").out(), "unknown");
  EXPECT_EQ(ShapeCase("Split", {{"axis", int64_t{1}}}, 2).in("n,6").ints({2, 4}).outputs(),
            (std::vector<std::string>{"[n,2]", "[n,4]"}));
  EXPECT_EQ(ShapeCase("Split", {}, 3).in("9,n").outputs(), (std::vector<std::string>{"[3,n]", "[3,n]", "[3,n]"}));
  ShapeCase uneven("Split", {{"num_outputs", int64_t{3}}}, 3);
  uneven.opset = 18;
  EXPECT_EQ(uneven.in("7").outputs(), (std::vector<std::string>{"[3]", "[3]", "[1]"}));
  EXPECT_EQ(ShapeCase("Split", {}, 2).in("7").outputs(), (std::vector<std::string>{"unknown", "unknown"}));
  EXPECT_EQ(ShapeCase("Gather", {{"axis", int64_t{1}}}).in("n,10,4").in("3,2").out(), "[n,3,2,4]");
  EXPECT_EQ(ShapeCase("Gather").in("3").in("").out(), "[]");
  EXPECT_EQ(ShapeCase("Gather", {{"axis", int64_t{3}}}).in("3").in("").out(), "unknown");
  EXPECT_EQ(ShapeCase("Shape").in("batch,seq,768").out(), "[3]");
  ShapeCase ranged("Shape", {{"start", int64_t{-2}}, {"end", int64_t{100}}});
  ranged.opset = 15;
  EXPECT_EQ(ranged.in("a,b,c").out(), "[2]");
  EXPECT_EQ(ShapeCase("Size").in("a,b").out(), "[]");
  EXPECT_EQ(ShapeCase("ConstantOfShape").ints({2, 3}).out(), "[2,3]");
}

TEST(ShapeFunctions, SliceClampsAndStepsBothWays) {
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(ShapeCase("Slice").in("10,n").ints({1}).ints({big}).out(), "[9,n]");
  EXPECT_EQ(ShapeCase("Slice").in("10,20").ints({-3, 0}).ints({100, -1}).out(), "[3,19]");
  EXPECT_EQ(ShapeCase("Slice").in("10").ints({-1}).ints({small}).ints({0}).ints({-1}).out(), "[10]");  // reversed
  EXPECT_EQ(ShapeCase("Slice").in("10").ints({8}).ints({1}).ints({0}).ints({-3}).out(), "[3]");
  EXPECT_EQ(ShapeCase("Slice").in("10").ints({0}).ints({10}).ints({0}).ints({3}).out(), "[4]");
  EXPECT_EQ(ShapeCase("Slice").in("10").ints({5}).ints({2}).out(), "[0]");
  EXPECT_EQ(ShapeCase("Slice").in("10").ints({9}).ints({small}).ints({0}).ints({small}).out(), "[1]");
  EXPECT_EQ(ShapeCase("Slice").in("n,4").ints({0, 1}).ints({big, 3}).out(), "[n,2]");
  EXPECT_EQ(ShapeCase("Slice").in("n,4").ints({1}).ints({big}).out(), "[?,4]");
  EXPECT_EQ(ShapeCase("Slice").in("10").ints({0}).ints({5}).ints({0}).ints({0}).out(), "unknown");  // step 0
  EXPECT_EQ(ShapeCase("Slice").in("10").ints({0}).ints({5}).ints({1}).out(), "unknown");            // axis out of range
  EXPECT_EQ(ShapeCase("Slice").in("10").ints({0, 1}).ints({5}).out(), "unknown");
  ShapeCase old("Slice", {{"starts", Ints{1}}, {"ends", Ints{-1}}, {"axes", Ints{1}}});
  old.opset = 9;
  EXPECT_EQ(old.in("2,6").out(), "[2,4]");
}

TEST(ShapeFunctions, ReductionsByAttributeOrInput) {
  ShapeCase by_attribute("ReduceMean", {{"axes", Ints{-1}}});
  EXPECT_EQ(by_attribute.in("batch,seq,768").out(), "[batch,seq,1]");
  EXPECT_EQ(ShapeCase("ReduceSum", {{"keepdims", int64_t{0}}}).in("2,3,4").ints({0, 2}).out(), "[3]");
  EXPECT_EQ(ShapeCase("ReduceSum", {{"keepdims", int64_t{0}}}).in("2,3,4").out(), "[]");
  EXPECT_EQ(ShapeCase("ReduceSum", {{"noop_with_empty_axes", int64_t{1}}}).in("2,3").out(), "[2,3]");
  EXPECT_EQ(ShapeCase("ReduceSum").in("2,3").in("1").out(), "unknown");  // axes not constant
  EXPECT_EQ(ShapeCase("ReduceMax", {{"axes", Ints{3}}}).in("2,3").out(), "unknown");
  EXPECT_EQ(ShapeCase("ArgMax", {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}).in("n,5,7").out(), "[n,7]");
}

TEST(ShapeFunctions, KilnFusedOps) {
  EXPECT_EQ(ShapeCase("FusedMatMul", {}, 1, "kiln").in("b,s,64").in("64,32").in("32").out(), "[b,s,32]");
  EXPECT_EQ(ShapeCase("FusedGemm", {{"transB", int64_t{1}}}, 1, "kiln").in("n,64").in("10,64").out(), "[n,10]");
  EXPECT_EQ(ShapeCase("FusedConv", {}, 1, "kiln").in("1,3,5,5").in("4,3,3,3").out(), "[1,4,3,3]");
  // The residual input broadcasts, and may widen the result.
  EXPECT_EQ(ShapeCase("FusedConv", {}, 1, "kiln").in("1,3,5,5").in("4,3,3,3").absent().in("2,4,3,3").out(), "[2,4,3,3]");
  EXPECT_EQ(ShapeCase("Attention", {}, 1, "kiln").in("b,s,768").in("b,t,768").in("b,t,768").out(), "[b,s,768]");
  EXPECT_EQ(ShapeCase("RMSNormalization", {}, 1, "kiln").in("b,s,4096").in("4096").out(), "[b,s,4096]");
  EXPECT_EQ(ShapeCase("NchwcConv", {}, 1, "kiln").in("1,8,5,5").out(), "unknown");
}

TEST(ShapeFunctions, AttributesOfTheWrongKindGiveUnknown) {
  EXPECT_EQ(ShapeCase("Transpose", {{"perm", std::string("0,1")}}).in("2,3").out(), "unknown");
  EXPECT_EQ(ShapeCase("Concat").in("2").in("3").out(), "unknown");  // axis is required
  EXPECT_EQ(ShapeCase("Gemm").in("2,3").out(), "unknown");          // B missing
  EXPECT_EQ(ShapeCase("Gather").in("2,3").out(), "unknown");
}

// A graph x -> Relu -> r -> MatMul(w) -> y, y annotated as the model says.
ir::Model relu_matmul(std::optional<ir::Dims> y_annotation) {
  ir::Model m;
  m.opset_imports[""] = 17;
  m.graph.inputs.push_back({"x", DType::Float32, dims("batch,4")});
  m.graph.initializers["w"] = Tensor::zeros(DType::Float32, {4, 6});
  m.graph.nodes.push_back({"relu", "Relu", "", {"x"}, {"r"}, {}});
  m.graph.nodes.push_back({"matmul", "MatMul", "", {"r", "w"}, {"y"}, {}});
  m.graph.outputs.push_back({"y", DType::Float32, std::move(y_annotation)});
  return m;
}

TEST(InferShapes, RecordsIntermediatesAndRefinesAnnotations) {
  ir::Model m = relu_matmul(dims("?,6"));
  ops::infer_shapes(m);
  EXPECT_EQ(ir::dims_to_string(*m.graph.value_info.at("r").shape), "[batch,4]");
  EXPECT_EQ(ir::dims_to_string(*m.graph.outputs[0].shape), "[batch,6]");  // an unnamed dim takes the symbol

  ir::Model named = relu_matmul(dims("rows,6"));
  ops::infer_shapes(named);
  EXPECT_EQ(ir::dims_to_string(*named.graph.outputs[0].shape), "[rows,6]");  // the model's own name stays

  ir::Model overridden = relu_matmul(dims("batch,6"));
  ir::set_symbolic_dims(overridden.graph, {{"batch", 3}});
  ops::infer_shapes(overridden);
  EXPECT_EQ(ir::dims_to_string(*overridden.graph.value_info.at("r").shape), "[3,4]");
  EXPECT_EQ(ir::dims_to_string(*overridden.graph.outputs[0].shape), "[3,6]");
}

TEST(InferShapes, AStaticAnnotationThatDisagreesIsAnError) {
  for (const char* annotation : {"batch,7", "batch,6,1"}) {
    ir::Model m = relu_matmul(dims(annotation));
    try {
      ops::infer_shapes(m);
      FAIL() << "expected an error for " << annotation;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidModel);
      const std::string message = e.what();
      EXPECT_NE(message.find("node 'matmul' (MatMul)"), std::string::npos) << message;
      EXPECT_NE(message.find(ir::dims_to_string(dims(annotation))), std::string::npos) << message;
      EXPECT_NE(message.find("[batch,6]"), std::string::npos) << message;
    }
  }
}

TEST(InferShapes, ConstantNodesUnknownOpsAndStaleEntries) {
  ir::Model m;
  m.opset_imports[""] = 17;
  m.graph.inputs.push_back({"x", DType::Float32, dims("2,6")});
  m.graph.nodes.push_back({"target", "Constant", "", {}, {"shape"}, {{"value", Tensor::from_vector<int64_t>({2}, {3, -1})}}});
  m.graph.nodes.push_back({"reshape", "Reshape", "", {"x", "shape"}, {"r"}, {}});
  m.graph.nodes.push_back({"custom", "Mystery", "vendor", {"r"}, {"y"}, {}});  // no opset import: skipped
  m.graph.outputs.push_back({"y", DType::Float32, std::nullopt});
  m.graph.value_info["gone"] = {"gone", DType::Float32, dims("5")};
  ops::infer_shapes(m);
  EXPECT_EQ(ir::dims_to_string(*m.graph.value_info.at("shape").shape), "[2]");
  EXPECT_EQ(ir::dims_to_string(*m.graph.value_info.at("r").shape), "[3,4]");
  EXPECT_FALSE(m.graph.value_info.count("y"));
  EXPECT_FALSE(m.graph.value_info.count("gone"));
}

}  // namespace
}  // namespace kiln
