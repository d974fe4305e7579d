// Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each matrix in the last two
// dims and zeroes the rest. Zero is all-zero bytes in every dtype, so this moves bytes only.
#include <algorithm>
#include <cstring>

#include "ops/cpu/shape_args.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

class TriluKernel final : public OpKernel {
 public:
  explicit TriluKernel(const KernelInfo& info) : upper_(info.attr_int("upper", 1) != 0) {}
  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.rank() < 2)
      throw Error(ErrorCode::InvalidArgument, "input must have rank >= 2, got " + shape_to_string(x.shape()));
    int64_t k = 0;
    if (const auto given = optional_int_list(ctx, 1, "k")) {
      if (given->size() != 1) throw Error(ErrorCode::InvalidArgument, "k must be a scalar");
      // Beyond these bounds every row is all kept or all zeroed; clamping keeps i + k from overflowing.
      k = std::clamp<int64_t>(given->front(), -x.dim(x.rank() - 2) - 1, x.dim(x.rank() - 1) + 1);
    }
    Tensor out = x.clone();
    const int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
    const size_t element = dtype_size(x.dtype());
    auto* data = static_cast<unsigned char*>(out.raw());
    const int64_t matrices = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
    for (int64_t m = 0; m < matrices; ++m)
      for (int64_t i = 0; i < rows; ++i) {
        // Columns [zero_begin, zero_end) of row i fall outside the kept triangle.
        const int64_t diagonal = std::clamp<int64_t>(i + k + (upper_ ? 0 : 1), 0, cols);
        const int64_t zero_begin = upper_ ? 0 : diagonal, zero_end = upper_ ? diagonal : cols;
        std::memset(data + static_cast<size_t>((m * rows + i) * cols + zero_begin) * element, 0,
                    static_cast<size_t>(zero_end - zero_begin) * element);
      }
    ctx.set_output(0, out);
  }

 private:
  bool upper_;
};
KILN_KERNEL(TriluKernel, {.op = "Trilu", .since = 14});

}  // namespace
}  // namespace kiln::ops
