// Calibration samples; from a folder, read one sample at a time so that a calibration set larger than
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

// Calibration samples, each one tensor per model input, read in order as often as asked (the
// histogram methods read them twice).
class CalibrationSamples {
 public:
  virtual ~CalibrationSamples() = default;
  virtual int64_t size() const = 0;
  virtual std::map<std::string, Tensor> sample(int64_t index) const = 0;
  // How errors name a sample ("image_00017.npy", "sample 17").
  virtual std::string describe(int64_t index) const = 0;
};

class CalibrationData final : public CalibrationSamples {
 public:
  // Lists the samples for a model with `input_names`; at most `limit` of them when limit > 0.
  // Error(InvalidArgument) naming the folder and the inputs when it holds no sample, or when the
  // inputs' files do not pair up.
  CalibrationData(const std::filesystem::path& folder, const std::vector<std::string>& input_names, int64_t limit = 0);

  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  std::map<std::string, Tensor> sample(int64_t index) const override;
  std::string describe(int64_t index) const override;

 private:
  std::vector<std::string> input_names_;
  std::vector<std::vector<std::filesystem::path>> samples_;  // per sample, a file per input
};

// Samples already in memory: what kiln.quantization's data readers hand over.
class CalibrationSampleList final : public CalibrationSamples {
 public:
  explicit CalibrationSampleList(std::vector<std::map<std::string, Tensor>> samples) : samples_(std::move(samples)) {}
  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  std::map<std::string, Tensor> sample(int64_t index) const override { return samples_.at(static_cast<size_t>(index)); }
  std::string describe(int64_t index) const override { return "sample " + std::to_string(index); }

 private:
  std::vector<std::map<std::string, Tensor>> samples_;
};

}  // namespace kiln::quant
