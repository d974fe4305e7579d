// The paged KV cache's block accounting: growth takes only the blocks a sequence needs, rows land
// where the block table says in every dtype (converted or quantized as paged_kv.h says), a full
// pool is an error that leaves the sequence as it was, and released blocks are reused.
#include "llm/kv_cache.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

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
}

// Row (head, slot) of block `block` of the view's keys or values, as floats.
std::vector<float> stored_row(const kernels::PagedKv& view, const std::byte* pool, int32_t block, int64_t head,
                              int64_t slot) {
  std::vector<float> row(static_cast<size_t>(view.layout.head_dim));
  kernels::load_kv_row(view.layout, pool + block * view.layout.block_bytes(), head, slot, row.data());
  return row;
}

// A row distinct for every (layer, head, position, key or value), with an element of each row zero.
std::vector<float> row_for(int64_t layer, int64_t head, int64_t position, bool key) {
  std::vector<float> row(4);
  for (size_t c = 0; c < row.size(); ++c)
    row[c] = c == 2 ? 0.f : (key ? 1.f : -1.f) * static_cast<float>(1 + layer * 100 + head * 10 + position) / (1.f + c);
  return row;
}

TEST(KvCache, WritesRowsWhereTheBlockTableSaysInEveryDtype) {
  for (const auto& [dtype, relative] : {std::pair{kernels::KvDtype::Float32, 0.f}, std::pair{kernels::KvDtype::Float16, 1e-3f},
                                        std::pair{kernels::KvDtype::Int8, 1.01f / 254}}) {
    SCOPED_TRACE(kernels::kv_dtype_name(dtype));
    KvCacheShape shape = small_shape();
    shape.dtype = dtype;
    KvCache cache(shape);
    KvSequence scrap, s;
    cache.grow(scrap, 1);  // s's blocks are then not the first ones of the pool
    cache.grow(s, 7);
    for (int64_t layer = 0; layer < shape.layers; ++layer)
      for (int64_t head = 0; head < shape.kv_heads; ++head)
        for (int64_t p = 0; p < s.length(); ++p)
          cache.write(s, layer, head, p, row_for(layer, head, p, true).data(), row_for(layer, head, p, false).data());
    for (int64_t layer = 0; layer < shape.layers; ++layer) {
      const kernels::PagedKv view = cache.view(s, layer);
      for (int64_t head = 0; head < shape.kv_heads; ++head)
        for (int64_t p = 0; p < s.length(); ++p) {
          const int32_t block = s.block_table()[static_cast<size_t>(p / shape.block_size)];
          const std::vector<float> k = stored_row(view, view.keys, block, head, p % shape.block_size);
          const std::vector<float> v = stored_row(view, view.values, block, head, p % shape.block_size);
          const std::vector<float> key = row_for(layer, head, p, true), value = row_for(layer, head, p, false);
          // Int8 is within half a step, |element 0| / 127 (the row's largest), plus float rounding.
          for (size_t c = 0; c < key.size(); ++c) {
            EXPECT_NEAR(k[c], key[c], relative * std::abs(key[0])) << layer << " " << head << " " << p << " " << c;
            EXPECT_NEAR(v[c], value[c], relative * std::abs(value[0])) << layer << " " << head << " " << p << " " << c;
          }
          EXPECT_EQ(k[2], 0.f);
        }
    }
  }
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

TEST(KvCache, DtypesAreNamedAsTheCommandLineTakesThem) {
  for (kernels::KvDtype dtype : {kernels::KvDtype::Float32, kernels::KvDtype::Float16, kernels::KvDtype::Int8})
    EXPECT_EQ(kernels::kv_dtype_from_name(kernels::kv_dtype_name(dtype)), dtype);
  try {
    kernels::kv_dtype_from_name("q4");
    FAIL() << "expected an unknown dtype to be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(std::string(e.what()), "KV cache dtype 'q4' is not one of f32, f16, int8");
  }
}

TEST(KvCache, RejectsNonPositiveSizes) {
  KvCacheShape shape = small_shape();
  shape.block_size = 0;
  EXPECT_THROW(KvCache{shape}, Error);
}

}  // namespace
}  // namespace kiln::llm
