#include "llm/nn/parameter.h"

namespace kiln::llm::nn {

const Tensor& Parameter::value() const {
  if (!value_.defined() && read_) value_ = read_();
  return value_;
}

void Parameter::hold(Tensor value) {
  dtype_ = value.dtype();
  value_ = std::move(value);
  read_ = nullptr;
  read_codes_ = nullptr;
}

void Parameter::defer(DType dtype, std::function<Tensor()> read, std::function<std::optional<StoredCodes>()> codes) {
  dtype_ = dtype;
  value_ = Tensor();
  read_ = std::move(read);
  read_codes_ = std::move(codes);
}

void Parameter::let_go() const {
  if (read_) value_ = Tensor();
}

std::optional<StoredCodes> Parameter::stored_codes() const {
  if (!read_codes_) return std::nullopt;
  return read_codes_();
}

}  // namespace kiln::llm::nn
