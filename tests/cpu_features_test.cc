#include "core/cpu_features.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "kiln/error.h"
#include "test_util.h"

namespace kiln {
namespace {

TEST(CpuFeatures, LevelNamesRoundTrip) {
  for (CpuLevel level : {CpuLevel::Scalar, CpuLevel::Avx2, CpuLevel::Avx512})
    EXPECT_EQ(parse_cpu_level(cpu_level_name(level), "test"), level);
}

TEST(CpuFeatures, UnknownLevelNamesTheSource) {
  try {
    parse_cpu_level("sse9", "KILN_CPU_LEVEL");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("KILN_CPU_LEVEL: unknown CPU level 'sse9'"), std::string::npos) << e.what();
  }
}

TEST(CpuFeatures, DetectedLevelIsSupportedAndConsistent) {
  const CpuLevel detected = detected_cpu_level();
  EXPECT_NO_THROW(check_cpu_level_supported(detected));
  const CpuFeatures& f = cpu_features();
  if (detected >= CpuLevel::Avx2) {
    EXPECT_TRUE(f.avx2 && f.fma);
  }
  if (detected == CpuLevel::Avx512) {
    EXPECT_TRUE(f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni);
  } else {
    EXPECT_THROW(check_cpu_level_supported(CpuLevel::Avx512), Error);
  }
}

TEST(CpuFeatures, EnvironmentForcesALowerLevel) {
  ::setenv("KILN_CPU_LEVEL", "scalar", 1);
  EXPECT_EQ(default_cpu_level(), CpuLevel::Scalar);
  ::setenv("KILN_CPU_LEVEL", "bogus", 1);
  EXPECT_THROW(default_cpu_level(), Error);
  ::unsetenv("KILN_CPU_LEVEL");
  EXPECT_EQ(default_cpu_level(), detected_cpu_level());
}

TEST(CpuFeatures, SessionRejectsAnUnknownLevel) {
  testing::NodeSpec spec{.op = "Relu", .inputs = {Tensor::from_vector<float>({1}, {1.f})}, .cpu_level = "avx9"};
  testing::expect_node_error(spec, ErrorCode::InvalidArgument, "SessionOptions::cpu_level: unknown CPU level 'avx9'");
}

}  // namespace
}  // namespace kiln
