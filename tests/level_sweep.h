// Differential tests of the vectorized kernels (kernels/cpu/vec_isa.h): a node runs at the
// reference level (Scalar, one thread) and at the level under test with one and three threads,
// and every output must match the reference within the op's tolerance.
#pragma once

#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "test_util.h"

namespace kiln::testing {

inline std::vector<CpuLevel> runnable_cpu_levels() {
  std::vector<CpuLevel> levels;
  for (CpuLevel level : {CpuLevel::Scalar, CpuLevel::Avx2, CpuLevel::Avx512})
    if (level <= detected_cpu_level()) levels.push_back(level);
  return levels;
}

// Test suites parameterized by the CPU level under test: derive one class per suite.
class LevelSweep : public ::testing::TestWithParam<CpuLevel> {
 protected:
  // Runs `spec` at the reference level and at GetParam() with 1 and 3 threads; atol = rtol = 0
  // demands bit-identical results (NaN matching NaN).
  void expect_matches_reference(NodeSpec spec, double atol, double rtol) const {
    spec.cpu_level = cpu_level_name(CpuLevel::Scalar);
    spec.threads = 1;
    const std::vector<Tensor> expected = run_node(spec);
    spec.cpu_level = cpu_level_name(GetParam());
    for (int threads : {1, 3}) {
      spec.threads = threads;
      const std::vector<Tensor> actual = run_node(spec);
      ASSERT_EQ(actual.size(), expected.size());
      for (size_t i = 0; i < actual.size(); ++i) {
        SCOPED_TRACE(::testing::Message() << spec.op << " at " << spec.cpu_level << " with " << threads
                                          << " threads, output " << i << ", input 0 " << shape_to_string(spec.inputs[0].shape()));
        expect_tensor_near(actual[i], expected[i], atol, rtol);
      }
    }
  }
};

}  // namespace kiln::testing

// Instantiates a LevelSweep suite for every CPU level this machine runs, named by level.
#define KILN_INSTANTIATE_LEVEL_SWEEP(Suite)                                                     \
  INSTANTIATE_TEST_SUITE_P(Levels, Suite, ::testing::ValuesIn(::kiln::testing::runnable_cpu_levels()), \
                           [](const auto& level) { return std::string(::kiln::cpu_level_name(level.param)); })
