#include "kernels/cpu/qconv_depthwise_impl.h"

namespace kiln::kernels {

void qconv_depthwise_rows_scalar(const QDepthwiseArgs& args, int64_t row_begin, int64_t row_end) {
  depthwise_impl::rows(args, row_begin, row_end);
}

}  // namespace kiln::kernels
