#include "kernels/cpu/broadcast_runs.h"

#include "kernels/cpu/broadcast.h"

namespace kiln::kernels {

int64_t BroadcastRuns::rows() const {
  int64_t rows = 1;
  for (int64_t d : dims) rows *= d;
  return rows;
}

BroadcastRuns broadcast_runs(const Shape& a, const Shape& b, const Shape& out) {
  const std::vector<int64_t> a_strides = broadcast_strides(a, out), b_strides = broadcast_strides(b, out);
  BroadcastRuns runs;
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    // A dim merges into the one before it when each input steps through both as through one
    // (contiguous, or broadcast along both).
    const bool merges = !runs.dims.empty() && runs.a_strides.back() == a_strides[d] * out[d] &&
                        runs.b_strides.back() == b_strides[d] * out[d];
    if (merges) {
      runs.dims.back() *= out[d];
      runs.a_strides.back() = a_strides[d];
      runs.b_strides.back() = b_strides[d];
    } else {
      runs.dims.push_back(out[d]);
      runs.a_strides.push_back(a_strides[d]);
      runs.b_strides.push_back(b_strides[d]);
    }
  }
  if (runs.dims.empty()) return runs;  // a single element
  // The innermost merged dim is the run; an input reads it contiguously (stride 1) or not at all.
  runs.run = runs.dims.back();
  runs.a_form = runs.a_strides.back() == 0 ? Operand::Scalar : Operand::Vector;
  runs.b_form = runs.b_strides.back() == 0 ? Operand::Scalar : Operand::Vector;
  runs.dims.pop_back();
  runs.a_strides.pop_back();
  runs.b_strides.pop_back();
  return runs;
}

}  // namespace kiln::kernels
