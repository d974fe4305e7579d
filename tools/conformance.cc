#include "conformance.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include "kiln/session.h"
#include "onnx/tensor_proto.h"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> sorted_matching(const fs::path& dir, const std::string& prefix, bool want_dirs) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() == want_dirs && e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  // input_10.pb sorts after input_9.pb: order by the number after the prefix.
  std::sort(out.begin(), out.end(), [&](const fs::path& a, const fs::path& b) {
    auto number = [&](const fs::path& p) { return std::atoi(p.stem().string().c_str() + prefix.size()); };
    return number(a) < number(b);
  });
  return out;
}

// numpy.testing.assert_allclose semantics: |actual - expected| <= atol + rtol * |expected|, NaNs equal.
std::string compare(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.dtype() != expected.dtype())
    return std::string("dtype ") + dtype_name(actual.dtype()) + ", expected " + dtype_name(expected.dtype());
  if (actual.shape() != expected.shape())
    return "shape " + shape_to_string(actual.shape()) + ", expected " + shape_to_string(expected.shape());
  const bool exact = actual.dtype() != DType::Float32 && actual.dtype() != DType::Float64 &&
                     actual.dtype() != DType::Float16 && actual.dtype() != DType::BFloat16;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.value_as_double(i), e = expected.value_as_double(i);
    if (std::isnan(a) && std::isnan(e)) continue;
    if (a == e) continue;
    if (exact || !(std::abs(a - e) <= atol + rtol * std::abs(e)))
      return "element " + std::to_string(i) + " is " + std::to_string(a) + ", expected " + std::to_string(e);
  }
  return {};
}

// ONNX releases before 1.14 wrote bfloat16 test tensors as uint16 holding the same bits.
Tensor read_case_tensor(const fs::path& file, DType wanted) {
  Tensor t = onnx_io::read_tensor_file(file.string());
  if (wanted != DType::BFloat16 || t.dtype() != DType::UInt16) return t;
  auto bits = std::make_shared<Tensor>(t);
  return Tensor::wrap(DType::BFloat16, t.shape(), bits->raw(), bits);
}

}  // namespace

CaseResult run_case(const std::string& case_dir, double rtol, double atol, bool compare_levels) {
  const fs::path dir(case_dir);
  CaseResult result{dir.parent_path().filename().string(), dir.filename().string(), CaseStatus::Passed, {}};
  try {
    Session session((dir / "model.onnx").string());
    std::optional<Session> unoptimized;
    if (compare_levels) {
      SessionOptions options;
      options.optimization_level = 0;
      unoptimized.emplace((dir / "model.onnx").string(), options);
    }
    for (const auto& info : session.inputs())
      if (info.dtype == DType::Undefined)
        return {result.suite, result.name, CaseStatus::Unsupported, "input '" + info.name + "' is not a tensor"};
    for (const auto& info : session.outputs())
      if (info.dtype == DType::Undefined)
        return {result.suite, result.name, CaseStatus::Unsupported, "output '" + info.name + "' is not a tensor"};
    for (const auto& data_set : sorted_matching(dir, "test_data_set_", true)) {
      std::map<std::string, Tensor> feeds;
      const auto input_files = sorted_matching(data_set, "input_", false);
      if (input_files.size() > session.inputs().size())
        throw Error(ErrorCode::InvalidArgument, "data set has more inputs than the model");
      for (size_t i = 0; i < input_files.size(); ++i)
        feeds[session.inputs()[i].name] = read_case_tensor(input_files[i], session.inputs()[i].dtype);
      std::vector<std::string> names;
      for (const auto& o : session.outputs()) names.push_back(o.name);
      const auto outputs = session.run(feeds, names);
      if (unoptimized) {
        const auto reference = unoptimized->run(feeds, names);
        for (size_t i = 0; i < outputs.size(); ++i)
          if (const std::string problem = compare(outputs[i], reference[i], rtol, atol); !problem.empty())
            return {result.suite, result.name, CaseStatus::Failed,
                    data_set.filename().string() + " output '" + names[i] + "' differs from level 0: " + problem};
      }
      const auto expected_files = sorted_matching(data_set, "output_", false);
      for (size_t i = 0; i < expected_files.size() && i < outputs.size(); ++i) {
        const std::string problem = compare(outputs[i], read_case_tensor(expected_files[i], outputs[i].dtype()), rtol, atol);
        if (!problem.empty()) {
          result.status = CaseStatus::Failed;
          result.reason = data_set.filename().string() + " output '" + names[i] + "': " + problem;
          return result;
        }
      }
    }
  } catch (const Error& e) {
    result.status = e.code() == ErrorCode::NotImplemented ? CaseStatus::Unsupported : CaseStatus::Failed;
    result.reason = e.what();
  } catch (const std::exception& e) {
    result.status = CaseStatus::Failed;
    result.reason = e.what();
  }
  return result;
}

}  // namespace kiln::cli
