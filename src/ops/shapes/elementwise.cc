// Ops whose outputs have their input's shape, or the broadcast of their inputs' shapes; and the
// normalizations, whose statistics outputs keep the leading dims.
#include "ops/shapes/shape_context.h"

namespace kiln::ops::shapes {
namespace {

// Every output shaped like input 0 (Dropout's mask, too).
OutputShapes same_as_input(const ShapeContext& ctx) { return OutputShapes(ctx.output_count(), ctx.input(0)); }

OutputShapes broadcast_inputs(const ShapeContext& ctx) {
  // Before opset 7 the arithmetic ops broadcast by `broadcast` and `axis` attributes, another rule.
  if (ctx.opset() < 7 || ctx.attributes().has_attr("broadcast")) return {};
  std::vector<Dims> shapes;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    if (!ctx.input(i)) return {};
    shapes.push_back(*ctx.input(i));
  }
  return single(broadcast(shapes));
}

OutputShapes constant(const ShapeContext& ctx) {
  const KernelInfo& a = ctx.attributes();
  if (a.has_attr("value")) return single(static_dims(a.attr_tensor("value").shape()));
  if (a.has_attr("value_ints")) return single(static_dims({static_cast<int64_t>(a.attr_ints("value_ints").size())}));
  if (a.has_attr("value_floats"))
    return single(static_dims({static_cast<int64_t>(a.attr_floats("value_floats").size())}));
  if (a.has_attr("value_int") || a.has_attr("value_float")) return single(Dims{});
  return {};
}

// ONNX's and kiln's LayerNormalization (kiln's input 3 is a skip added first, broadcasting).
// Mean and InvStdDev keep the dims before `axis` and set the normalized ones to 1.
OutputShapes layer_norm(const ShapeContext& ctx) {
  MaybeDims y = ctx.input(0);
  if (y && ctx.node().domain == "kiln" && ctx.has_input(3)) y = ctx.input(3) ? broadcast({*y, *ctx.input(3)}) : std::nullopt;
  if (!y) return {};
  const auto axis = normalize_axis(ctx.attributes().attr_int("axis", -1), y->size());
  if (!axis) return {};
  Dims stats(y->begin(), y->begin() + static_cast<std::ptrdiff_t>(*axis));
  stats.resize(y->size(), static_dim(1));
  return {y, stats, stats};
}

// BatchNormalization at inference; the training-mode statistics outputs stay unknown.
OutputShapes batch_norm(const ShapeContext& ctx) { return single(ctx.input(0)); }

}  // namespace

void add_elementwise_shapes(ShapeTable& table) {
  for (const char* op : {"Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Erf", "Exp",
                         "Floor", "Log", "Neg", "Not", "Reciprocal", "Round", "Sigmoid", "Sign", "Sin", "Sinh", "Sqrt",
                         "Tan", "Tanh", "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish",
                         "Softplus", "Softsign", "ThresholdedRelu", "Shrink", "Mish", "Gelu", "IsNaN", "IsInf",
                         "Identity", "Cast", "CastLike", "Dropout", "Softmax", "LogSoftmax", "Hardmax", "Clip", "CumSum",
                         "Trilu", "LRN", "InstanceNormalization", "MeanVarianceNormalization", "QuantizeLinear",
                         "DequantizeLinear", "BitwiseNot"})
    table[{"", op}] = same_as_input;
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Where", "Equal", "Less",
                         "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "BitShift", "BitwiseAnd",
                         "BitwiseOr", "BitwiseXor", "PRelu"})
    table[{"", op}] = broadcast_inputs;
  table[{"", "Constant"}] = constant;
  table[{"", "BatchNormalization"}] = batch_norm;
  table[{"", "LayerNormalization"}] = layer_norm;
  table[{"kiln", "LayerNormalization"}] = layer_norm;
  for (const char* op : {"Gelu", "Silu", "RMSNormalization", "QLinearAdd"}) table[{"kiln", op}] = same_as_input;
}

}  // namespace kiln::ops::shapes
