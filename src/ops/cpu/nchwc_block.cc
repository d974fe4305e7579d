#include "ops/cpu/nchwc_block.h"

#include <algorithm>

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

const Tensor& nchwc_constant_weights(const KernelInfo& info, size_t index, const char* name) {
  const Tensor* w = info.constant_input(index);
  if (!w || w->dtype() != DType::Float32 || w->rank() != 4 || w->numel() == 0)
    throw Error(ErrorCode::InvalidModel,
                std::string(name) + " must be a non-empty float32 initializer of rank 4 [M, C / group, kh, kw]");
  return *w;
}

void check_nchwc_window(const kernels::WindowAttributes& window) {
  if (window.auto_pad != kernels::AutoPad::NotSet && window.auto_pad != kernels::AutoPad::Valid)
    throw Error(ErrorCode::NotImplemented, "auto_pad SAME_UPPER / SAME_LOWER is not supported");
  if (window.strides.size() == 2 && window.strides[1] != 1 && window.strides[1] != 2)
    throw Error(ErrorCode::NotImplemented, "strides " + shape_to_string(window.strides) +
                                               ": horizontal strides other than 1 and 2 are not supported");
}

namespace {

size_t check_nchwc_bias(const Tensor& bias, int64_t channels, int64_t block) {
  if (bias.dtype() != DType::Float32 || bias.rank() != 1 || bias.dim(0) != channels)
    throw Error(ErrorCode::InvalidArgument, "B must be float32 [" + std::to_string(channels) + "], got " +
                                                dtype_name(bias.dtype()) + " " + shape_to_string(bias.shape()));
  return static_cast<size_t>(kernels::nchwc_blocks(channels, block) * block);
}

}  // namespace

std::vector<float> nchwc_padded_bias(const Tensor& bias, int64_t channels, int64_t block) {
  std::vector<float> padded(check_nchwc_bias(bias, channels, block), 0.f);
  std::copy(bias.data<float>(), bias.data<float>() + channels, padded.begin());
  return padded;
}

PreparedWeights prepare_nchwc_padded_bias(const KernelInfo& info, std::string_view key, const Tensor& bias,
                                          int64_t channels, int64_t block) {
  const size_t padded = check_nchwc_bias(bias, channels, block);
  return info.weights().get(key, padded * sizeof(float), [&](std::byte* out) {
    std::copy(bias.data<float>(), bias.data<float>() + channels, reinterpret_cast<float*>(out));
  });
}

}  // namespace kiln::ops
