#include "ops/cpu/nchwc_block.h"

#include "kernels/cpu/nchwc.h"

namespace kiln::ops {

int64_t read_nchwc_block(const KernelInfo& info) {
  const int64_t block = info.attr_int("block");
  const int64_t expected = kernels::nchwc_block(info.cpu_level());
  if (block != expected)
    throw Error(ErrorCode::InvalidModel, "block " + std::to_string(block) + " does not match CPU level " +
                                             cpu_level_name(info.cpu_level()) + ", whose NCHWc block is " +
                                             std::to_string(expected));
  return block;
}

void check_nchwc_input(const Tensor& x, int64_t block) {
  if (x.dtype() != DType::Float32 || x.rank() != 5 || x.dim(4) != block)
    throw Error(ErrorCode::InvalidArgument, std::string("input ") + dtype_name(x.dtype()) + " " +
                                                shape_to_string(x.shape()) + " is not float32 NCHWc [N, C/" +
                                                std::to_string(block) + ", H, W, " + std::to_string(block) + "]");
}

}  // namespace kiln::ops
