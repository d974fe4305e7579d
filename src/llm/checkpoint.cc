#include "llm/checkpoint.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/read_file.h"

namespace kiln::llm {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

[[noreturn]] void bad_index(const std::string& index, const std::string& problem) {
  throw Error(ErrorCode::InvalidModel, index + ": " + problem);
}

// weight_map's tensor -> shard file name, each name a plain file beside the index.
std::map<std::string, std::string> read_weight_map(const std::string& index) {
  json root;
  try {
    root = json::parse(read_file(index));
  } catch (const json::exception& e) {
    bad_index(index, std::string("not JSON (") + e.what() + ")");
  }
  if (!root.is_object() || !root.contains("weight_map") || !root["weight_map"].is_object())
    bad_index(index, "has no weight_map object");
  std::map<std::string, std::string> map;
  for (const auto& [tensor, file] : root["weight_map"].items()) {
    if (!file.is_string()) bad_index(index, "weight_map entry '" + tensor + "' is not a file name");
    const std::string name = file.get<std::string>();
    if (name.empty() || fs::path(name).filename() != name || name == "." || name == "..")
      bad_index(index, "weight_map entry '" + tensor + "' names '" + name + "', not a file beside the index");
    map[tensor] = name;
  }
  if (map.empty()) bad_index(index, "weight_map lists no tensors");
  return map;
}

}  // namespace

Checkpoint Checkpoint::open(const std::string& path) {
  fs::path target(path);
  if (fs::is_directory(target)) {
    if (fs::exists(target / kIndexName))
      target /= kIndexName;
    else if (fs::exists(target / kSingleName))
      target /= kSingleName;
    else
      throw Error(ErrorCode::Io, path + ": holds neither " + kIndexName + " nor " + kSingleName);
  }
  Checkpoint checkpoint;
  checkpoint.source_ = target.string();
  if (target.extension() != ".json") {
    checkpoint.shards_.push_back(SafetensorsFile::open(target.string()));
    for (const auto& e : checkpoint.shards_[0].entries()) checkpoint.shard_of_[e.name] = 0;
    return checkpoint;
  }
  const std::map<std::string, std::string> weight_map = read_weight_map(checkpoint.source_);
  std::map<std::string, size_t> shard_index;
  for (const auto& [tensor, file] : weight_map) {
    auto [it, added] = shard_index.emplace(file, checkpoint.shards_.size());
    if (added) checkpoint.shards_.push_back(SafetensorsFile::open((target.parent_path() / file).string()));
    const SafetensorsFile& shard = checkpoint.shards_[it->second];
    if (!shard.find(tensor))
      bad_index(checkpoint.source_, "tensor '" + tensor + "' is mapped to " + file + ", which does not hold it");
    checkpoint.shard_of_[tensor] = it->second;
  }
  for (const auto& [file, index] : shard_index)
    for (const auto& e : checkpoint.shards_[index].entries()) {
      const auto mapped = weight_map.find(e.name);
      if (mapped == weight_map.end() || mapped->second != file)
        bad_index(checkpoint.source_, "shard " + file + " holds tensor '" + e.name + "', which the index maps to " +
                                          (mapped == weight_map.end() ? "no shard" : mapped->second));
    }
  return checkpoint;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> names;
  for (const auto& [name, shard] : shard_of_) names.push_back(name);
  return names;
}

const SafetensorsEntry* Checkpoint::find(const std::string& name) const {
  const auto it = shard_of_.find(name);
  return it == shard_of_.end() ? nullptr : shards_[it->second].find(name);
}

Tensor Checkpoint::tensor(const std::string& name) const {
  const auto it = shard_of_.find(name);
  if (it == shard_of_.end()) throw Error(ErrorCode::InvalidArgument, source_ + ": no tensor named '" + name + "'");
  return shards_[it->second].tensor(name);
}

}  // namespace kiln::llm
