#include <gtest/gtest.h>
#include "kiln/tensor.h"
TEST(Tensor, Numel) { EXPECT_EQ(kiln::Tensor(kiln::DType::Float32, {2, 3}).numel(), 6); }
