#include "ops/cpu/quant_params.h"

#include <string>

namespace kiln::ops {
namespace {

void check_parameter_shape(const Tensor& parameter, int64_t channels, const char* name) {
  if (is_per_tensor(parameter) || (parameter.rank() == 1 && parameter.dim(0) == channels)) return;
  throw Error(ErrorCode::InvalidArgument, std::string(name) + " of shape " + shape_to_string(parameter.shape()) +
                                              " is neither a single value nor a 1-D tensor of " +
                                              std::to_string(channels) + " values");
}

}  // namespace

std::vector<float> read_scales(const Tensor& scale, int64_t channels, const char* name) {
  if (scale.dtype() != DType::Float32)
    throw Error(ErrorCode::NotImplemented,
                std::string(name) + " of dtype " + dtype_name(scale.dtype()) + " is not supported; it must be float32");
  check_parameter_shape(scale, channels, name);
  const float* values = scale.data<float>();
  std::vector<float> out(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) out[static_cast<size_t>(c)] = values[scale.numel() == 1 ? 0 : c];
  return out;
}

std::vector<int32_t> read_zero_points(const Tensor* zero_point, DType expected, int64_t channels, const char* name) {
  std::vector<int32_t> out(static_cast<size_t>(channels), 0);
  if (!zero_point) return out;
  if (zero_point->dtype() != expected)
    throw Error(ErrorCode::InvalidModel, std::string(name) + " has dtype " + dtype_name(zero_point->dtype()) +
                                             " but the tensor it belongs to is " + dtype_name(expected));
  check_parameter_shape(*zero_point, channels, name);
  for (int64_t c = 0; c < channels; ++c)
    out[static_cast<size_t>(c)] = static_cast<int32_t>(zero_point->value_as_int64(zero_point->numel() == 1 ? 0 : c));
  return out;
}

}  // namespace kiln::ops
