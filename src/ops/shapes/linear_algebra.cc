// Matrix products: MatMul (numpy semantics: 1-D operands promoted, batch dims broadcast), Gemm,
// and the kiln ops fused from them; attention keeps its query's shape.
#include "ops/shapes/shape_context.h"

#include <utility>

namespace kiln::ops::shapes {
namespace {

bool may_equal(const Dim& a, const Dim& b) { return !a.is_static() || !b.is_static() || a.size == b.size; }

// Operand i as the product reads it: kiln.FusedMatMul's transA / transB swap its last two dims.
MaybeDims operand(const ShapeContext& ctx, size_t i, const char* transposed) {
  MaybeDims dims = ctx.input(i);
  if (!dims || ctx.attributes().attr_int(transposed, 0) == 0) return dims;
  if (dims->size() < 2) return std::nullopt;
  std::swap((*dims)[dims->size() - 1], (*dims)[dims->size() - 2]);
  return dims;
}

OutputShapes matmul(const ShapeContext& ctx) {
  const MaybeDims a = operand(ctx, 0, "transA"), b = operand(ctx, 1, "transB");
  if (!a || !b || a->empty() || b->empty()) return {};
  const Dims a_matrix = a->size() == 1 ? Dims{static_dim(1), (*a)[0]} : *a;
  const Dims b_matrix = b->size() == 1 ? Dims{(*b)[0], static_dim(1)} : *b;
  if (!may_equal(a_matrix.back(), b_matrix[b_matrix.size() - 2])) return {};
  const auto batch = broadcast({Dims(a_matrix.begin(), a_matrix.end() - 2), Dims(b_matrix.begin(), b_matrix.end() - 2)});
  if (!batch) return {};
  Dims y = *batch;
  if (a->size() > 1) y.push_back(a_matrix[a_matrix.size() - 2]);
  if (b->size() > 1) y.push_back(b_matrix.back());
  return single(y);
}

// Gemm's shape with B at input b_index: 1, or 3 for kiln.QGemm (after A's scale and zero point).
OutputShapes gemm_of(const ShapeContext& ctx, size_t b_index) {
  const MaybeDims &a = ctx.input(0), &b = ctx.input(b_index);
  if (!a || !b || a->size() != 2 || b->size() != 2) return {};
  const bool trans_a = ctx.attributes().attr_int("transA", 0) != 0, trans_b = ctx.attributes().attr_int("transB", 0) != 0;
  if (!may_equal((*a)[trans_a ? 0 : 1], (*b)[trans_b ? 1 : 0])) return {};
  return single(Dims{(*a)[trans_a ? 1 : 0], (*b)[trans_b ? 0 : 1]});
}

OutputShapes gemm(const ShapeContext& ctx) { return gemm_of(ctx, 1); }
OutputShapes quantized_gemm(const ShapeContext& ctx) { return gemm_of(ctx, 3); }

OutputShapes same_as_query(const ShapeContext& ctx) { return single(ctx.input(0)); }

}  // namespace

void add_linear_algebra_shapes(ShapeTable& table) {
  table[{"", "MatMul"}] = matmul;
  table[{"", "Gemm"}] = gemm;
  table[{"kiln", "FusedMatMul"}] = matmul;
  table[{"kiln", "FusedGemm"}] = gemm;
  table[{"kiln", "QGemm"}] = quantized_gemm;
  table[{"kiln", "MatMulIntegerToFloat"}] = matmul;
  table[{"kiln", "Attention"}] = same_as_query;
}

}  // namespace kiln::ops::shapes
