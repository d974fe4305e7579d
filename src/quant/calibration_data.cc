#include "quant/calibration_data.h"

#include <algorithm>

#include "core/npy.h"
#include "kiln/error.h"

namespace kiln::quant {
namespace fs = std::filesystem;
namespace {

std::vector<fs::path> npy_files(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_regular_file() && entry.path().extension() == ".npy") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// The files of flat DIR/<input>_<id>.npy samples, keyed by <id>.
std::map<std::string, fs::path> files_by_id(const std::vector<fs::path>& files, const std::string& input) {
  std::map<std::string, fs::path> by_id;
  const std::string prefix = input + "_";
  for (const auto& file : files) {
    const std::string stem = file.stem().string();
    if (stem.size() > prefix.size() && stem.compare(0, prefix.size(), prefix) == 0) by_id[stem.substr(prefix.size())] = file;
  }
  return by_id;
}

}  // namespace

CalibrationData::CalibrationData(const fs::path& folder, const std::vector<std::string>& input_names, int64_t limit)
    : input_names_(input_names) {
  if (!fs::is_directory(folder))
    throw Error(ErrorCode::InvalidArgument, "calibration folder '" + folder.string() + "' does not exist or is not a folder");
  const bool per_input_folders = std::all_of(input_names.begin(), input_names.end(),
                                             [&](const std::string& name) { return fs::is_directory(folder / name); });
  if (per_input_folders) {
    std::vector<std::vector<fs::path>> columns;
    for (const auto& name : input_names) columns.push_back(npy_files(folder / name));
    for (size_t i = 1; i < columns.size(); ++i)
      if (columns[i].size() != columns[0].size())
        throw Error(ErrorCode::InvalidArgument, "calibration folder '" + folder.string() + "': input '" + input_names[i] +
                                                    "' has " + std::to_string(columns[i].size()) + " samples, input '" +
                                                    input_names[0] + "' " + std::to_string(columns[0].size()));
    for (size_t s = 0; s < columns[0].size(); ++s) {
      samples_.emplace_back();
      for (const auto& column : columns) samples_.back().push_back(column[s]);
    }
  } else {
    const std::vector<fs::path> files = npy_files(folder);
    std::vector<std::map<std::string, fs::path>> by_input;
    for (const auto& name : input_names) by_input.push_back(files_by_id(files, name));
    if (input_names.size() == 1 && by_input[0].empty()) {
      for (const auto& file : files) samples_.push_back({file});
    } else {
      for (const auto& [id, first] : by_input[0]) {
        samples_.push_back({first});
        for (size_t i = 1; i < input_names.size(); ++i) {
          const auto found = by_input[i].find(id);
          if (found == by_input[i].end())
            throw Error(ErrorCode::InvalidArgument, "calibration sample '" + first.filename().string() +
                                                        "' has no file for input '" + input_names[i] + "' (expected " +
                                                        input_names[i] + "_" + id + ".npy)");
          samples_.back().push_back(found->second);
        }
      }
    }
  }
  if (samples_.empty())
    throw Error(ErrorCode::InvalidArgument,
                "calibration folder '" + folder.string() + "' holds no samples for the model's inputs (" + joined(input_names) +
                    "): put .npy files in a subfolder per input, name them <input>_<id>.npy, or, for a one-input model, "
                    "put any .npy files there");
  if (limit > 0 && size() > limit) samples_.resize(static_cast<size_t>(limit));
}

std::map<std::string, Tensor> CalibrationData::sample(int64_t index) const {
  std::map<std::string, Tensor> feeds;
  const auto& files = samples_.at(static_cast<size_t>(index));
  for (size_t i = 0; i < files.size(); ++i) feeds.emplace(input_names_[i], read_npy(files[i].string()));
  return feeds;
}

std::string CalibrationData::describe(int64_t index) const {
  std::string text;
  for (const auto& file : samples_.at(static_cast<size_t>(index))) text += (text.empty() ? "" : ", ") + file.filename().string();
  return text;
}

}  // namespace kiln::quant
