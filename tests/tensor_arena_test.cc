#include "core/tensor_arena.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(TensorArena, SteadyRunsReuseTheSameBuffers) {
  TensorArena arena;
  std::vector<void*> first_run;
  for (int run = 0; run < 3; ++run) {
    std::vector<std::shared_ptr<void>> live;
    for (size_t bytes : {1000, 4096, 1000, 77}) live.push_back(arena.acquire(bytes));
    std::vector<void*> addresses;
    for (const auto& p : live) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p.get()) % 64, 0u);
      addresses.push_back(p.get());
    }
    if (run == 0) first_run = addresses;
    EXPECT_EQ(addresses, first_run) << "run " << run;
    live.clear();
    arena.trim();
    EXPECT_EQ(arena.buffer_count(), 4u);
  }
}

TEST(TensorArena, HeldBufferIsNotHandedOutAgain) {
  TensorArena arena;
  auto kept = arena.acquire(256);
  auto other = arena.acquire(256);
  EXPECT_NE(kept.get(), other.get());
  void* released = other.get();
  other.reset();
  EXPECT_EQ(arena.acquire(256).get(), released);
  EXPECT_NE(arena.acquire(256).get(), kept.get());
}

TEST(TensorArena, BufferOutlivesTheArena) {
  std::shared_ptr<void> kept;
  {
    TensorArena arena;
    kept = arena.acquire(128);
    static_cast<char*>(kept.get())[127] = 42;
  }
  EXPECT_EQ(static_cast<char*>(kept.get())[127], 42);
}

TEST(TensorArena, TrimBoundsMemoryWhenSizesChange) {
  TensorArena arena;
  for (size_t bytes = 1024; bytes < 1024 * 64; bytes *= 3) {
    { auto a = arena.acquire(bytes), b = arena.acquire(bytes / 2); }
    arena.trim();
    // Only what the last run used stays cached.
    EXPECT_LE(arena.buffer_count(), 2u);
    EXPECT_LE(arena.cached_bytes(), bytes + bytes / 2 + 128);
  }
}

TEST(TensorArena, SmallRequestDoesNotTakeAFarLargerBuffer) {
  TensorArena arena;
  void* big = arena.acquire(1 << 20).get();
  EXPECT_NE(arena.acquire(1000).get(), big);
  EXPECT_EQ(arena.acquire(700 * 1024).get(), big);
}

}  // namespace
}  // namespace kiln
