// The weights of a Hugging Face checkpoint: one model.safetensors, or the shards that
// model.safetensors.index.json maps each tensor name to. Opening checks that the index and the
// shards agree exactly (every listed tensor in its shard, every shard tensor listed), so a partial
// or mixed download is an error at load, not a missing weight later.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "llm/safetensors.h"

namespace kiln::llm {

class Checkpoint {
 public:
  // `path`: a directory (its model.safetensors.index.json, else its model.safetensors), an index
  // .json file, or one .safetensors file. Error(Io) when nothing there can be read,
  // Error(InvalidModel) for a malformed index or shard, or an index that disagrees with its shards.
  static Checkpoint open(const std::string& path);

  // Every tensor name, sorted.
  std::vector<std::string> names() const;
  size_t shard_count() const { return shards_.size(); }
  // Null when there is no tensor of that name.
  const SafetensorsEntry* find(const std::string& name) const;
  // As SafetensorsFile::tensor; Error(InvalidArgument) naming the checkpoint for an unknown name.
  Tensor tensor(const std::string& name) const;

 private:
  std::string source_;
  std::vector<SafetensorsFile> shards_;
  std::map<std::string, size_t> shard_of_;  // tensor name -> index into shards_
};

}  // namespace kiln::llm
