// A folder of calibration samples, read one sample at a time so that a calibration set larger than
// memory streams through. A sample is one tensor per model input, each a .npy file:
//   DIR/<input>/*.npy        one subfolder per input, samples paired by file name order;
//   DIR/<input>_<id>.npy     flat, paired by <id> ("image_00017.npy");
//   DIR/*.npy                for a model with one input: every file is a sample of it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::quant {

class CalibrationData {
 public:
  // Lists the samples for a model with `input_names`; at most `limit` of them when limit > 0.
  // Error(InvalidArgument) naming the folder and the inputs when it holds no sample, or when the
  // inputs' files do not pair up.
  CalibrationData(const std::filesystem::path& folder, const std::vector<std::string>& input_names, int64_t limit = 0);

  int64_t size() const { return static_cast<int64_t>(samples_.size()); }
  // Reads sample `index`: one tensor per input.
  std::map<std::string, Tensor> sample(int64_t index) const;
  // "image_00017.npy": how errors name a sample.
  std::string describe(int64_t index) const;

 private:
  std::vector<std::string> input_names_;
  std::vector<std::vector<std::filesystem::path>> samples_;  // per sample, a file per input
};

}  // namespace kiln::quant
