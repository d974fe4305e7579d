#include "level_sweep.h"
#include "shape_test_util.h"

namespace kiln::testing {
namespace {

// Output element at multi-index o reads the input at i where i[perm[k]] = o[k].
Tensor naive_transpose(const Tensor& x, const Ints& perm) {
  Shape out_shape;
  for (int64_t p : perm) out_shape.push_back(x.dim(static_cast<size_t>(p)));
  Tensor out(DType::Float32, out_shape);
  std::vector<int64_t> in_index(x.rank());
  for (int64_t flat = 0; flat < out.numel(); ++flat) {
    int64_t rest = flat;
    for (size_t k = perm.size(); k-- > 0;) {
      in_index[static_cast<size_t>(perm[k])] = rest % out_shape[k];
      rest /= out_shape[k];
    }
    int64_t in_flat = 0;
    for (size_t d = 0; d < x.rank(); ++d) in_flat = in_flat * x.dim(d) + in_index[d];
    out.data<float>()[flat] = x.data<float>()[in_flat];
  }
  return out;
}

TEST(TransposeOps, MatchesNaivePermutationOnOddShapes) {
  const Tensor x = random_tensor({3, 1, 5, 13}, 7);
  for (const Ints& perm : {Ints{2, 0, 3, 1}, Ints{0, 1, 2, 3}, Ints{3, 2, 1, 0}, Ints{1, 3, 0, 2}}) {
    const auto out = run_node({.op = "Transpose", .inputs = {x}, .attributes = {{"perm", perm}}});
    expect_tensor_near(out[0], naive_transpose(x, perm), 0, 0);
  }
}

TEST(TransposeOps, LargeInputSplitAcrossThreadsMatchesNaive) {
  const Tensor x = random_tensor({67, 129, 3}, 11);
  const auto out = run_node({.op = "Transpose", .inputs = {x}, .attributes = {{"perm", Ints{2, 0, 1}}}});
  expect_tensor_near(out[0], naive_transpose(x, {2, 0, 1}), 0, 0);
}

// The tiled copy for permutations that move the innermost axis: attention's [B,S,H,D] <-> [B,H,S,D]
// and K^T, NCHW <-> NHWC, with sizes that leave partial tiles, at every CPU level (above Scalar
// 4-byte tiles move through vector registers) on 1 and 3 threads.
TEST(TransposeOps, TiledPermutationsMatchNaive) {
  const std::pair<Shape, Ints> cases[] = {
      {{2, 13, 3, 7}, {0, 2, 1, 3}},    {{2, 3, 13, 7}, {0, 1, 3, 2}},  {{1, 12, 128, 64}, {0, 1, 3, 2}},
      {{2, 5, 13, 17}, {0, 2, 3, 1}},   {{2, 13, 17, 5}, {0, 3, 1, 2}}, {{1, 1, 1, 127}, {3, 0, 2, 1}},
      {{33, 1, 47}, {2, 1, 0}},         {{3, 4, 5, 6, 7}, {4, 2, 0, 3, 1}}, {{1, 64, 56, 56}, {0, 2, 3, 1}},
  };
  uint32_t seed = 20;
  for (const auto& [shape, perm] : cases) {
    const Tensor x = random_tensor(shape, seed++);
    for (CpuLevel level : runnable_cpu_levels())
      for (int threads : {1, 3}) {
        const auto out = run_node({.op = "Transpose",
                                   .inputs = {x},
                                   .attributes = {{"perm", perm}},
                                   .cpu_level = cpu_level_name(level),
                                   .threads = threads});
        SCOPED_TRACE(shape_to_string(shape) + " perm " + shape_to_string(perm) + " at " + cpu_level_name(level));
        expect_tensor_near(out[0], naive_transpose(x, perm), 0, 0);
      }
  }
}

TEST(TransposeOps, TiledPermutationsMoveElementsOfEveryWidth) {
  const Shape shape = {3, 17, 19};
  const Ints perm = {2, 0, 1};
  const Tensor expected = naive_transpose(iota_tensor<float>(shape), perm);
  const auto check = [&](const Tensor& out) {
    for (int64_t i = 0; i < out.numel(); ++i)
      ASSERT_EQ(out.value_as_double(i), static_cast<double>(static_cast<int64_t>(expected.data<float>()[i]) %
                                                            (out.dtype() == DType::UInt8 ? 256 : 1 << 30)))
          << dtype_name(out.dtype()) << " element " << i;
  };
  check(run_node({.op = "Transpose", .inputs = {iota_tensor<uint8_t>(shape)}, .attributes = {{"perm", perm}}})[0]);
  check(run_node({.op = "Transpose", .inputs = {iota_tensor<int16_t>(shape)}, .attributes = {{"perm", perm}}})[0]);
  // 32-bit integers go through the float shuffles of the vector tiles, which keep every bit.
  check(run_node({.op = "Transpose", .inputs = {iota_tensor<int32_t>(shape)}, .attributes = {{"perm", perm}}})[0]);
  check(run_node({.op = "Transpose", .inputs = {iota_tensor<int64_t>(shape)}, .attributes = {{"perm", perm}}})[0]);
}

TEST(TransposeOps, DefaultPermReversesAxesForAnyDtype) {
  const auto out = run_node({.op = "Transpose", .inputs = {iota_tensor<int64_t>({2, 3})}});
  expect_tensor_near(out[0], Tensor::from_vector<int64_t>({3, 2}, {0, 3, 1, 4, 2, 5}));
  const auto bools = run_node({.op = "Transpose", .inputs = {Tensor::from_vector<bool>({1, 2}, {true, false})}});
  expect_tensor_near(bools[0], Tensor::from_vector<bool>({2, 1}, {true, false}));
}

TEST(TransposeOps, RejectsAPermThatIsNotAPermutation) {
  expect_error_containing({.op = "Transpose", .inputs = {iota_tensor<float>({2, 3})}, .attributes = {{"perm", Ints{0, 0}}}},
                    "is not a permutation");
  expect_error_containing(
      {.op = "Transpose", .inputs = {iota_tensor<float>({2, 3})}, .attributes = {{"perm", Ints{1, 0, 2}}}},
      "is not a permutation");
}

// DepthToSpace per the spec: DCR reads channel (bh * b + bw) * C' + c, CRD reads c * b * b + bh * b + bw.
Tensor naive_depth_to_space(const Tensor& x, int64_t b, bool crd) {
  const int64_t n = x.dim(0), c = x.dim(1) / (b * b), h = x.dim(2), w = x.dim(3);
  Tensor out(DType::Float32, {n, c, h * b, w * b});
  float* y = out.data<float>();
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t oh = 0; oh < h * b; ++oh)
        for (int64_t ow = 0; ow < w * b; ++ow) {
          const int64_t bh = oh % b, bw = ow % b;
          const int64_t channel = crd ? ic * b * b + bh * b + bw : (bh * b + bw) * c + ic;
          *y++ = x.data<float>()[((in * x.dim(1) + channel) * h + oh / b) * w + ow / b];
        }
  return out;
}

TEST(DepthToSpaceOps, DcrAndCrdModesMatchTheSpec) {
  const Tensor x = random_tensor({2, 8, 3, 5}, 3);
  for (const bool crd : {false, true}) {
    const auto out = run_node({.op = "DepthToSpace",
                               .inputs = {x},
                               .attributes = {{"blocksize", int64_t{2}}, {"mode", std::string(crd ? "CRD" : "DCR")}}});
    expect_tensor_near(out[0], naive_depth_to_space(x, 2, crd), 0, 0);
  }
}

TEST(SpaceToDepthOps, InvertsDepthToSpaceDcr) {
  const Tensor x = random_tensor({1, 3, 9, 6}, 5);
  const auto packed = run_node({.op = "SpaceToDepth", .inputs = {x}, .attributes = {{"blocksize", int64_t{3}}}});
  ASSERT_EQ(packed[0].shape(), (Shape{1, 27, 3, 2}));
  expect_tensor_near(naive_depth_to_space(packed[0], 3, false), x, 0, 0);
}

TEST(DepthToSpaceOps, RejectsChannelsNotDivisibleByTheBlock) {
  expect_error_containing(
      {.op = "DepthToSpace", .inputs = {iota_tensor<float>({1, 6, 2, 2})}, .attributes = {{"blocksize", int64_t{2}}}},
      "not divisible by blocksize^2");
  expect_error_containing(
      {.op = "SpaceToDepth", .inputs = {iota_tensor<float>({1, 1, 3, 2})}, .attributes = {{"blocksize", int64_t{2}}}},
      "not divisible by blocksize 2");
}

}  // namespace
}  // namespace kiln::testing
