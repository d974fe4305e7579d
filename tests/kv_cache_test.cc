// The paged KV cache's block accounting: growth takes only the blocks a sequence needs, rows land
// where the block table says, a full pool is an error that leaves the sequence as it was, and
// released blocks are reused.
#include "llm/kv_cache.h"

#include <gtest/gtest.h>

#include <set>

namespace kiln::llm {
namespace {

KvCacheShape small_shape() { return {.layers = 2, .kv_heads = 3, .head_dim = 4, .block_size = 5, .blocks = 4}; }

TEST(KvCache, GrowsBlockByBlockAndAddressesRowsThroughTheTable) {
  KvCache cache(small_shape());
  KvSequence s;
  cache.grow(s, 1);
  EXPECT_EQ(s.block_table().size(), 1u);
  cache.grow(s, 4);  // exactly fills the block
  EXPECT_EQ(s.block_table().size(), 1u);
  cache.grow(s, 1);
  EXPECT_EQ(s.block_table().size(), 2u);
  EXPECT_EQ(s.length(), 6);
  EXPECT_EQ(cache.free_blocks(), 2);
  // Position 6 of layer 1, head 2 sits in the sequence's second block at slot 1.
  const kernels::PagedKv view = cache.view(s, 1);
  const float* expected = view.keys + ((s.block_table()[1] * 3 + 2) * 5 + 1) * 4;
  EXPECT_EQ(cache.key_row(s, 1, 2, 6), expected);
  EXPECT_NE(static_cast<const float*>(cache.value_row(s, 1, 2, 6)), expected);
}

TEST(KvCache, AFullPoolIsAnErrorThatLeavesTheSequenceUnchanged) {
  KvCache cache(small_shape());
  KvSequence a, b;
  cache.grow(a, 12);
  try {
    cache.grow(b, 6);
    FAIL() << "expected the pool to be exhausted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Runtime);
    EXPECT_EQ(std::string(e.what()), "KV cache full: a sequence of 0 positions needs 2 more blocks of 5 for 6 new "
                                     "positions, 1 of 4 are free");
  }
  EXPECT_EQ(b.length(), 0);
  EXPECT_TRUE(b.block_table().empty());
  cache.release(a);
  EXPECT_EQ(cache.free_blocks(), 4);
  cache.grow(b, 20);
  const std::set<int32_t> distinct(b.block_table().begin(), b.block_table().end());
  EXPECT_EQ(distinct.size(), 4u);
}

TEST(KvCache, RejectsNonPositiveSizes) {
  KvCacheShape shape = small_shape();
  shape.block_size = 0;
  EXPECT_THROW(KvCache{shape}, Error);
}

}  // namespace
}  // namespace kiln::llm
