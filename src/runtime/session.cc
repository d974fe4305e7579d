#include "kiln/session.h"

#include "onnx/importer.h"
#include "runtime/plan.h"

namespace kiln {

Session::Session(const std::string& model_path, const SessionOptions& options)
    : plan_(std::make_shared<runtime::Plan>(onnx_io::load_model(model_path), options)) {}

Session::Session(const void* model_bytes, size_t size, const SessionOptions& options, const std::string& base_dir)
    : plan_(std::make_shared<runtime::Plan>(onnx_io::load_model_from_bytes(model_bytes, size, base_dir), options)) {}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

const std::vector<TensorInfo>& Session::inputs() const { return plan_->inputs(); }
const std::vector<TensorInfo>& Session::outputs() const { return plan_->outputs(); }
const std::vector<PassReport>& Session::optimizer_report() const { return plan_->optimizer_report(); }

namespace {

std::vector<std::string> output_names(const runtime::Plan& plan) {
  std::vector<std::string> names;
  for (const auto& o : plan.outputs()) names.push_back(o.name);
  return names;
}

}  // namespace

std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& feeds) const {
  const std::vector<std::string> names = output_names(*plan_);
  auto values = plan_->run(feeds, names);
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace(names[i], std::move(values[i]));
  return out;
}

std::vector<Tensor> Session::run(const std::map<std::string, Tensor>& feeds,
                                 const std::vector<std::string>& output_names) const {
  return plan_->run(feeds, output_names);
}

MemoryPlan Session::memory_plan(const std::map<std::string, Tensor>& feeds) const {
  return plan_->memory_plan(feeds, output_names(*plan_));
}

}  // namespace kiln
