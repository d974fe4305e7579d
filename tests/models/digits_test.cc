// The quick-start model: Kiln must reproduce PyTorch's logits on the shipped held-out digits and
// classify them as accurately as the trained network does.
#include <gtest/gtest.h>

#include "core/npy.h"
#include "kiln/session.h"
#include "test_util.h"

namespace kiln {
namespace {

const std::string kDigits = std::string(KILN_SOURCE_DIR) + "/models/digits/";

TEST(DigitsModel, MatchesPyTorchLogits) {
  Session session(kDigits + "digits_cnn.onnx");
  const Tensor images = read_npy(kDigits + "heldout_images.npy");
  const auto outputs = session.run({{"image", images}});
  testing::expect_tensor_near(outputs.at("logits"), read_npy(kDigits + "heldout_logits.npy"), 1e-4, 0);
}

TEST(DigitsModel, ClassifiesHeldOutDigitsAboveNinetyPercent) {
  Session session(kDigits + "digits_cnn.onnx");
  const Tensor logits = session.run({{"image", read_npy(kDigits + "heldout_images.npy")}}).at("logits");
  const Tensor labels = read_npy(kDigits + "heldout_labels.npy");
  ASSERT_EQ(logits.shape(), (Shape{labels.numel(), 10}));
  int64_t correct = 0;
  for (int64_t r = 0; r < labels.numel(); ++r) {
    const float* row = logits.data<float>() + r * 10;
    correct += std::max_element(row, row + 10) - row == labels.data<int64_t>()[r];
  }
  EXPECT_GT(static_cast<double>(correct) / static_cast<double>(labels.numel()), 0.9);
}

}  // namespace
}  // namespace kiln
