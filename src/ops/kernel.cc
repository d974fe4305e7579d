#include "ops/kernel.h"

namespace kiln::ops {

template <class T>
const T& KernelInfo::get(const std::string& name) const {
  auto it = node_.attributes.find(name);
  if (it == node_.attributes.end())
    throw Error(ErrorCode::InvalidModel, node_.describe() + " is missing required attribute '" + name + "'");
  const T* value = std::get_if<T>(&it->second);
  if (!value)
    throw Error(ErrorCode::InvalidModel, node_.describe() + " attribute '" + name + "' has kind " +
                                             attribute_kind_name(it->second) + ", expected " +
                                             attribute_kind_name(ir::Attribute(T{})));
  return *value;
}

int64_t KernelInfo::attr_int(const std::string& name) const { return get<int64_t>(name); }
int64_t KernelInfo::attr_int(const std::string& name, int64_t fallback) const {
  return has_attr(name) ? get<int64_t>(name) : fallback;
}
float KernelInfo::attr_float(const std::string& name) const { return get<float>(name); }
float KernelInfo::attr_float(const std::string& name, float fallback) const {
  return has_attr(name) ? get<float>(name) : fallback;
}
std::string KernelInfo::attr_string(const std::string& name) const { return get<std::string>(name); }
std::string KernelInfo::attr_string(const std::string& name, const std::string& fallback) const {
  return has_attr(name) ? get<std::string>(name) : fallback;
}
std::vector<int64_t> KernelInfo::attr_ints(const std::string& name) const { return get<std::vector<int64_t>>(name); }
std::vector<int64_t> KernelInfo::attr_ints(const std::string& name, const std::vector<int64_t>& fallback) const {
  return has_attr(name) ? get<std::vector<int64_t>>(name) : fallback;
}
std::vector<float> KernelInfo::attr_floats(const std::string& name) const { return get<std::vector<float>>(name); }
std::vector<float> KernelInfo::attr_floats(const std::string& name, const std::vector<float>& fallback) const {
  return has_attr(name) ? get<std::vector<float>>(name) : fallback;
}
std::vector<std::string> KernelInfo::attr_strings(const std::string& name,
                                                  const std::vector<std::string>& fallback) const {
  return has_attr(name) ? get<std::vector<std::string>>(name) : fallback;
}
Tensor KernelInfo::attr_tensor(const std::string& name) const { return get<Tensor>(name); }

const Tensor& KernelContext::input(size_t i) const {
  if (!has_input(i))
    throw Error(ErrorCode::InvalidModel, "required input " + std::to_string(i) + " is missing");
  return *inputs_[i];
}

Tensor& KernelContext::output_slot(size_t i) const {
  if (i >= outputs_.size())
    throw Error(ErrorCode::InvalidModel, "output " + std::to_string(i) + " is missing (the node declares " +
                                             std::to_string(outputs_.size()) + ")");
  return *outputs_[i];
}

const Tensor* KernelContext::take_overwritable(DType dtype, const Shape& shape) {
  for (size_t k = 0; k < overwritable_.size() && k < 64; ++k) {
    const Tensor* input = overwritable_[k];
    if ((overwritten_ >> k & 1) || input->dtype() != dtype || input->shape() != shape) continue;
    overwritten_ |= uint64_t{1} << k;
    return input;
  }
  return nullptr;
}

Tensor& KernelContext::allocate_output(size_t i, DType dtype, Shape shape) {
  Tensor& slot = output_slot(i);
  if (!arena_) return slot = Tensor(dtype, std::move(shape));
  if (i < 64) in_arena_ |= uint64_t{1} << i;
  if (const Tensor* input = take_overwritable(dtype, shape)) {
    ++in_place_;
    return slot = *input;
  }
  std::shared_ptr<void> storage = arena_->acquire(Tensor::checked_nbytes(dtype, shape));
  void* data = storage.get();
  return slot = Tensor::wrap(dtype, std::move(shape), data, std::move(storage));
}

void KernelContext::set_output(size_t i, Tensor value) {
  if (i < 64) in_arena_ &= ~(uint64_t{1} << i);
  output_slot(i) = std::move(value);
}

}  // namespace kiln::ops
