// The ONNX backend test-suite runner: loads each case's model.onnx, feeds every
// test_data_set_*/input_*.pb and compares the outputs with output_*.pb.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

enum class CaseStatus { Passed, Failed, Unsupported };

struct CaseResult {
  std::string suite;
  std::string name;
  CaseStatus status;
  std::string reason;  // why it failed or is unsupported
};

inline const char* kDefaultSuiteRoot = "/usr/share/libonnx-testdata/data";
inline const char* kDefaultSuites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};

// Runs one case directory (holding model.onnx and test_data_set_*) at the default optimization
// level. With `compare_levels`, the case also fails when its outputs at level 0 (unoptimized)
// differ from those beyond the tolerances, even where both match the expected outputs.
CaseResult run_case(const std::string& case_dir, double rtol, double atol, bool compare_levels = false);

}  // namespace kiln::cli
