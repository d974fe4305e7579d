// Checkpoints as the Hugging Face Hub ships them: one model.safetensors, or shards with
// model.safetensors.index.json; and the index/shard disagreements that must fail at load.
#include "llm/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace kiln::llm {
namespace {

namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::temp_directory_path() / ("kiln_checkpoint_" + test);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    save_safetensors((dir_ / "model-00001-of-00002.safetensors").string(),
                     {{"embed.weight", testing::random_tensor({4, 3}, 1)},
                      {"norm.weight", testing::random_tensor({3}, 2)}});
    save_safetensors((dir_ / "model-00002-of-00002.safetensors").string(),
                     {{"head.weight", testing::random_tensor({4, 3}, 3)}});
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_index(const std::string& weight_map) const {
    std::ofstream(dir_ / "model.safetensors.index.json")
        << R"({"metadata": {"total_size": 108}, "weight_map": )" << weight_map << "}";
  }
  static constexpr const char* kGoodMap =
      R"({"embed.weight": "model-00001-of-00002.safetensors", "norm.weight": "model-00001-of-00002.safetensors",
          "head.weight": "model-00002-of-00002.safetensors"})";

  void expect_invalid(const std::string& message) const {
    try {
      Checkpoint::open(dir_.string());
      ADD_FAILURE() << "opened";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidModel) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("model.safetensors.index.json"), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
};

TEST_F(CheckpointTest, ShardedCheckpointReadsEveryTensorFromItsShard) {
  write_index(kGoodMap);
  const Checkpoint c = Checkpoint::open(dir_.string());
  EXPECT_EQ(c.shard_count(), 2u);
  EXPECT_EQ(c.names(), (std::vector<std::string>{"embed.weight", "head.weight", "norm.weight"}));
  testing::expect_tensor_near(c.tensor("head.weight"), testing::random_tensor({4, 3}, 3), 0, 0);
  testing::expect_tensor_near(c.tensor("norm.weight"), testing::random_tensor({3}, 2), 0, 0);
  EXPECT_EQ(c.find("lm_head.weight"), nullptr);
  EXPECT_THROW(c.tensor("lm_head.weight"), Error);
  // The index file itself opens the same checkpoint.
  EXPECT_EQ(Checkpoint::open((dir_ / "model.safetensors.index.json").string()).names().size(), 3u);
}

TEST_F(CheckpointTest, SingleFileCheckpoint) {
  fs::rename(dir_ / "model-00002-of-00002.safetensors", dir_ / "model.safetensors");
  const Checkpoint c = Checkpoint::open(dir_.string());
  EXPECT_EQ(c.shard_count(), 1u);
  EXPECT_EQ(c.names(), std::vector<std::string>{"head.weight"});
}

TEST_F(CheckpointTest, IndexThatDisagreesWithItsShardsIsAnError) {
  write_index(
      R"({"embed.weight": "model-00001-of-00002.safetensors", "head.weight": "model-00002-of-00002.safetensors"})");
  expect_invalid("holds tensor 'norm.weight', which the index maps to no shard");
  write_index(R"({"embed.weight": "model-00001-of-00002.safetensors", "norm.weight": "model-00002-of-00002.safetensors",
                  "head.weight": "model-00002-of-00002.safetensors"})");
  expect_invalid("'norm.weight' is mapped to model-00002-of-00002.safetensors, which does not hold it");
  write_index(R"({"embed.weight": "../model-00001-of-00002.safetensors"})");
  expect_invalid("not a file beside the index");
  write_index(R"({"embed.weight": 7})");
  expect_invalid("'embed.weight' is not a file name");
  write_index("{}");
  expect_invalid("lists no tensors");
  write_index("[1]");
  expect_invalid("has no weight_map object");
  std::ofstream(dir_ / "model.safetensors.index.json") << "{\"weight_map\": ";
  expect_invalid("not JSON");
}

TEST_F(CheckpointTest, MissingShardOrEmptyDirectoryIsAnIoError) {
  write_index(R"({"embed.weight": "model-00003-of-00003.safetensors"})");
  try {
    Checkpoint::open(dir_.string());
    ADD_FAILURE() << "opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Io) << e.what();
    EXPECT_NE(std::string(e.what()).find("model-00003-of-00003.safetensors"), std::string::npos) << e.what();
  }
  const fs::path empty = dir_ / "empty";
  fs::create_directories(empty);
  EXPECT_THROW(Checkpoint::open(empty.string()), Error);
}

}  // namespace
}  // namespace kiln::llm
