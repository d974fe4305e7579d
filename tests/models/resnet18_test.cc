// torchvision's ResNet-18 (random weights, fixed seed), exported by tests/models/export_resnet18.py
// in the export_resnet18 CTest fixture: Kiln's output must match PyTorch's within 1e-4.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/npy.h"
#include "kiln/session.h"
#include "test_util.h"

namespace kiln {
namespace {

TEST(ResNet18Model, MatchesPyTorchWithin1e4) {
  const std::string dir = std::string(KILN_MODEL_DIR) + "/resnet18/";
  if (!std::filesystem::exists(dir + "resnet18.onnx"))
    GTEST_SKIP() << "no exported ResNet-18 (python3-torch missing, or run through ctest for the export fixture)";
  for (int threads : {1, 2}) {
    Session session(dir + "resnet18.onnx", SessionOptions{.threads = threads});
    const auto outputs = session.run({{"input", read_npy(dir + "input.npy")}});
    testing::expect_tensor_near(outputs.at("output"), read_npy(dir + "expected_output.npy"), 1e-4, 0);
  }
}

}  // namespace
}  // namespace kiln
