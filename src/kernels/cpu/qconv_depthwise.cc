#include "kernels/cpu/qconv_depthwise.h"

#include <algorithm>

namespace kiln::kernels {

void qconv_depthwise(CpuLevel level, const QDepthwiseArgs& args, ThreadPool& pool) {
  const auto rows = level >= CpuLevel::Avx512 ? qconv_depthwise_rows_avx512
                    : level >= CpuLevel::Avx2 ? qconv_depthwise_rows_avx2
                                              : qconv_depthwise_rows_scalar;
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, args.out_w * args.channels * args.kernel_h * args.kernel_w));
  pool.parallel_for(args.out_h, [&](int64_t begin, int64_t end) { rows(args, begin, end); }, grain);
}

}  // namespace kiln::kernels
