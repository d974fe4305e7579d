// What the shape functions share: the view of one node they read (input shapes, constant inputs,
// typed attributes), dim arithmetic (numpy broadcasting over static and symbolic dims, axis
// normalization), and the table type each op family fills.
//
// A shape function answers "unknown" (nullopt) for what it cannot tell and may throw kiln::Error
// on input it rejects; infer_node_shapes turns both into unknown outputs, so a hostile model
// reaches its kernel, which reports the problem with the run's full context.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/shape_inference.h"
#include "ops/kernel.h"

namespace kiln::ops::shapes {

using ir::Dim;
using ir::Dims;
using ir::OutputShapes;
using MaybeDims = std::optional<Dims>;

class ShapeContext {
 public:
  explicit ShapeContext(const ir::ShapeQuery& query)
      : query_(query), info_(query.node, query.opset, {}, query.constants) {}

  const ir::Node& node() const { return query_.node; }
  int64_t opset() const { return query_.opset; }
  // Typed attribute getters (a present attribute of the wrong kind throws InvalidModel).
  const KernelInfo& attributes() const { return info_; }
  size_t input_count() const { return query_.inputs.size(); }
  bool has_input(size_t i) const { return i < query_.node.inputs.size() && !query_.node.inputs[i].empty(); }
  size_t output_count() const { return query_.node.outputs.size(); }
  // Input i's shape; nullopt when the input is absent or its rank unknown.
  const MaybeDims& input(size_t i) const;
  const Tensor* constant(size_t i) const { return i < query_.constants.size() ? query_.constants[i] : nullptr; }
  // The elements of constant int32/int64 input i; nullopt when it is absent, not constant or not integer.
  std::optional<std::vector<int64_t>> constant_ints(size_t i) const;

 private:
  const ir::ShapeQuery& query_;
  KernelInfo info_;
};

using ShapeFunction = OutputShapes (*)(const ShapeContext&);
// Keyed by (domain, op_type); "" is ai.onnx.
using ShapeTable = std::map<std::pair<std::string, std::string>, ShapeFunction>;

inline Dim static_dim(int64_t size) { return Dim{size, {}}; }
Dims static_dims(const std::vector<int64_t>& sizes);
// The sizes when every dim is static; nullopt otherwise.
std::optional<std::vector<int64_t>> static_sizes(const Dims& dims);
// Both static and equal, or both unknown and named by the same symbol.
bool same_dim(const Dim& a, const Dim& b);
// Numpy broadcasting. A static size other than 1 wins over unknown dims (they must be it or 1);
// unknown dims sharing one symbol keep it. nullopt when two static sizes clash.
MaybeDims broadcast(const std::vector<Dims>& shapes);
// The product of `dims`: static when all are, the one dim itself when it is the only one,
// unknown otherwise.
Dim product(const Dims& dims);
// `axis` mapped into [0, rank); nullopt when out of range.
std::optional<size_t> normalize_axis(int64_t axis, size_t rank);
// Every axis normalized; nullopt when one is out of range or repeated.
std::optional<std::vector<size_t>> normalize_axes(const std::vector<int64_t>& axes, size_t rank);

// Axes given as the attribute `axes` before opset `input_since` and as input `input` from then on
// (Squeeze, Unsqueeze, the reductions). Empty when not given; nullopt when given by an input
// that is not constant.
std::optional<std::vector<int64_t>> axes_argument(const ShapeContext& ctx, int64_t input_since, size_t input);

// One shape for the first output.
inline OutputShapes single(MaybeDims dims) { return {std::move(dims)}; }

// The families' registrations; shape_functions.cc puts them in one table.
void add_elementwise_shapes(ShapeTable& table);
void add_linear_algebra_shapes(ShapeTable& table);
void add_window_shapes(ShapeTable& table);
void add_reshaping_shapes(ShapeTable& table);
void add_indexing_shapes(ShapeTable& table);
void add_reduction_shapes(ShapeTable& table);

}  // namespace kiln::ops::shapes
