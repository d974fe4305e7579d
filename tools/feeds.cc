#include "feeds.h"

#include <algorithm>
#include <random>

#include "core/npy.h"

namespace kiln::cli {
namespace {

Tensor random_input(const TensorInfo& info, int64_t free_dim, std::mt19937& rng) {
  Shape shape;
  for (int64_t d : info.shape.value_or(Shape{})) shape.push_back(d < 0 ? free_dim : d);
  Tensor t(info.dtype, shape);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::uniform_int_distribution<int> small(0, 9);
  switch (info.dtype) {
    case DType::Float32:
      std::generate_n(t.data<float>(), t.numel(), [&] { return uniform(rng); });
      break;
    case DType::Float64:
      std::generate_n(t.data<double>(), t.numel(), [&] { return uniform(rng); });
      break;
    case DType::Int64:
      std::generate_n(t.data<int64_t>(), t.numel(), [&] { return small(rng); });
      break;
    case DType::Int32:
      std::generate_n(t.data<int32_t>(), t.numel(), [&] { return small(rng); });
      break;
    case DType::Bool:
      std::generate_n(t.data<bool>(), t.numel(), [&] { return small(rng) % 2 == 0; });
      break;
    default:
      throw Error(ErrorCode::InvalidArgument, "cannot make a random input of dtype " +
                                                  std::string(dtype_name(info.dtype)) + " for '" + info.name +
                                                  "'; give one with --input");
  }
  return t;
}

}  // namespace

std::map<std::string, Tensor> make_feeds(const Session& session, const std::vector<std::string>& specs,
                                         int64_t free_dim) {
  std::map<std::string, Tensor> feeds;
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorCode::InvalidArgument, "--input '" + spec + "' must look like NAME=FILE.npy");
    feeds[spec.substr(0, eq)] = read_npy(spec.substr(eq + 1));
  }
  std::mt19937 rng(42);
  if (specs.empty())
    for (const auto& info : session.inputs()) feeds[info.name] = random_input(info, free_dim, rng);
  return feeds;
}

void add_feed_options(CLI::App& cmd, std::vector<std::string>& specs, int64_t& free_dim) {
  cmd.add_option("-i,--input", specs, "NAME=FILE.npy for a model input (repeatable); without any, inputs are random");
  cmd.add_option("--free-dim", free_dim, "size given to unknown dims of random inputs")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
}

}  // namespace kiln::cli
