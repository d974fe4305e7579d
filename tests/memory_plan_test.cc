// The memory planner: offsets from recorded lifetimes (core/memory_pattern), the arena's replay of
// a pattern, and a session's runs through it, including writing outputs over dead inputs.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/memory_pattern.h"
#include "core/tensor_arena.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;

size_t rounded(size_t bytes) { return std::max<size_t>(64, (bytes + 63) / 64 * 64); }

bool intersect(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

TEST(MemoryPattern, BuffersAliveTogetherNeverShareBytes) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferLifetime> buffers;
    const int count = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < count; ++i) {
      const int first = static_cast<int>(rng() % 40);
      buffers.push_back({1 + rng() % 5000, first, first + static_cast<int>(rng() % 8), rng() % 7 != 0});
    }
    const MemoryPattern pattern = plan_memory(buffers);
    ASSERT_EQ(pattern.buffers.size(), buffers.size());
    size_t planned = 0, most_live = 0;
    for (int step = 0; step < 48; ++step) {
      size_t live = 0;
      for (const auto& b : buffers)
        if (b.planned && b.first_step <= step && step <= b.last_step) live += rounded(b.bytes);
      most_live = std::max(most_live, live);
    }
    for (size_t i = 0; i < buffers.size(); ++i) {
      if (!buffers[i].planned) continue;
      planned += rounded(buffers[i].bytes);
      EXPECT_EQ(pattern.offsets[i] % 64, 0u);
      EXPECT_LE(pattern.offsets[i] + rounded(buffers[i].bytes), pattern.peak_bytes);
      for (size_t j = 0; j < buffers.size(); ++j) {
        if (j == i || !buffers[j].planned) continue;
        const bool share = pattern.offsets[i] < pattern.offsets[j] + rounded(buffers[j].bytes) &&
                           pattern.offsets[j] < pattern.offsets[i] + rounded(buffers[i].bytes);
        EXPECT_FALSE(share && intersect(buffers[i], buffers[j])) << "trial " << trial << ": " << i << " and " << j;
        const auto& listed = pattern.overlapping[i];
        EXPECT_EQ(share, std::find(listed.begin(), listed.end(), j) != listed.end()) << i << " and " << j;
      }
    }
    EXPECT_EQ(pattern.planned_bytes, planned);
    EXPECT_GE(pattern.peak_bytes, most_live);  // no plan beats the most bytes alive at once
    EXPECT_LE(pattern.peak_bytes, planned);
  }
}

TEST(MemoryPattern, ChainTakesTheLargestNeighbouringPair) {
  // a -> b -> c: a and c are never alive together, so a fits in the bytes c leaves free.
  const MemoryPattern pattern = plan_memory({{100, 0, 1}, {256, 1, 2}, {320, 2, 3}, {5000, 0, 3, false}});
  EXPECT_EQ(pattern.peak_bytes, 256u + 320u);
  EXPECT_EQ(pattern.offsets[0], pattern.offsets[2]);
  EXPECT_EQ(pattern.planned_bytes, 128u + 256u + 320u);
  EXPECT_EQ(pattern.unplanned_bytes, 5000u);
}

// Records one run of three buffers a -> b -> c, where the caller keeps c when `kept` is given.
std::shared_ptr<const MemoryPattern> record_chain(TensorArena& arena, std::shared_ptr<void>* kept) {
  arena.begin_run(nullptr);
  arena.set_step(0);
  auto a = arena.acquire(4096);
  arena.end_step();
  arena.set_step(1);
  auto b = arena.acquire(4096);
  a.reset();
  arena.end_step();
  arena.set_step(2);
  auto c = arena.acquire(1000);
  b.reset();
  arena.end_step();
  if (kept) *kept = c;
  c.reset();
  std::vector<BufferLifetime> lifetimes = arena.end_run();
  EXPECT_EQ(lifetimes.size(), 3u);
  EXPECT_EQ(lifetimes[0].last_step, 1);
  EXPECT_EQ(lifetimes[1].last_step, 2);
  EXPECT_EQ(lifetimes[2].planned, kept == nullptr);
  return std::make_shared<const MemoryPattern>(plan_memory(std::move(lifetimes)));
}

TEST(TensorArenaPattern, ReplayTakesBuffersFromOneBlock) {
  TensorArena arena;
  std::shared_ptr<void> kept;
  const auto pattern = record_chain(arena, &kept);
  EXPECT_EQ(pattern->peak_bytes, 2 * 4096u);
  for (int run = 0; run < 3; ++run) {
    arena.begin_run(pattern);
    // The block replaces the recording's cached blocks, all free by now but the kept result's.
    if (run == 0) {
      EXPECT_EQ(arena.buffer_count(), 1u);
    }
    auto a = arena.acquire(4096);
    auto b = arena.acquire(4096);
    auto c = arena.acquire(1000);
    EXPECT_EQ(std::abs(static_cast<char*>(a.get()) - static_cast<char*>(b.get())), 4096);
    EXPECT_NE(c.get(), kept.get());  // the kept result is still the caller's
    a.reset();
    b.reset();
    c.reset();
    EXPECT_TRUE(arena.end_run().empty());
    EXPECT_EQ(arena.pattern_block_bytes(), 2 * 4096u);
  }
}

TEST(TensorArenaPattern, RequestThePatternDidNotForeseeFallsBack) {
  TensorArena arena;
  std::shared_ptr<void> kept;
  const auto pattern = record_chain(arena, &kept);
  arena.begin_run(pattern);
  auto a = arena.acquire(4096);
  auto bigger = arena.acquire(8192);  // the pattern planned 4096 bytes here
  auto c = arena.acquire(1000);
  auto extra = arena.acquire(64);  // past the pattern's end
  std::memset(a.get(), 1, 4096);
  std::memset(bigger.get(), 2, 8192);
  EXPECT_EQ(static_cast<unsigned char*>(a.get())[4095], 1);
  EXPECT_NE(extra.get(), nullptr);
  arena.end_run();
}

TEST(TensorArenaPattern, PlannedBufferHeldPastTheRunKeepsItsBytes) {
  TensorArena arena;
  std::shared_ptr<void> kept;
  // A replay whose first buffer escapes: the pattern said it dies at step 1.
  const auto pattern = record_chain(arena, &kept);
  arena.begin_run(pattern);
  std::shared_ptr<void> escaped = arena.acquire(4096);
  std::memset(escaped.get(), 7, 4096);
  arena.end_run();
  for (int run = 0; run < 2; ++run) {
    arena.begin_run(pattern);
    for (int i = 0; i < 3; ++i) std::memset(arena.acquire(4096).get(), 0, 4096);
    arena.end_run();
  }
  EXPECT_EQ(static_cast<unsigned char*>(escaped.get())[0], 7);
  EXPECT_EQ(static_cast<unsigned char*>(escaped.get())[4095], 7);
}

TEST(TensorArenaPattern, BusyOverlappingBufferIsNotHandedOut) {
  TensorArena arena;
  const auto pattern = record_chain(arena, nullptr);
  ASSERT_EQ(pattern->offsets[2], pattern->offsets[0]);
  arena.begin_run(pattern);
  auto a = arena.acquire(4096);
  auto b = arena.acquire(4096);
  // a should have died by now; c's planned bytes overlap a's, so c must go elsewhere.
  auto c = arena.acquire(1000);
  const auto* pa = static_cast<char*>(a.get());
  const auto* pc = static_cast<char*>(c.get());
  EXPECT_TRUE(pc + 1000 <= pa || pa + 4096 <= pc);
  arena.end_run();
}

// MatMul -> Relu -> Sigmoid -> Tanh -> MatMul, unoptimized: the activations can each write over
// their input, which no one reads afterwards.
GraphBuilder activation_chain() {
  GraphBuilder b;
  b.input("x", random_tensor({8, 48}, 1));
  b.constant("w", random_tensor({48, 48}, 2, -0.3f, 0.3f));
  b.node("MatMul", {"x", "w"}, "h");
  b.node("Relu", {"h"}, "r");
  b.node("Sigmoid", {"r"}, "s");
  b.node("Tanh", {"s"}, "t");
  b.node("MatMul", {"t", "w"}, "y");
  b.output("y");
  return b;
}

TEST(SessionMemoryPlan, ActivationsWriteOverTheirDeadInputs) {
  GraphBuilder b = activation_chain();
  runtime::Plan plan(b.model, SessionOptions{.optimization_level = 0});
  const MemoryPlan report = plan.memory_plan(b.feeds, {"y"});
  EXPECT_EQ(report.in_place_outputs, 3);
  ASSERT_EQ(report.buffers.size(), 2u);  // h (shared by r, s and t) and the result y
  EXPECT_TRUE(report.buffers[0].planned);
  EXPECT_EQ(report.buffers[0].node, "h_node");
  EXPECT_EQ(report.buffers[0].last_step, 4);
  EXPECT_FALSE(report.buffers[1].planned);
  EXPECT_EQ(report.peak_bytes, 8u * 48 * 4);
  EXPECT_EQ(report.unplanned_bytes, 8u * 48 * 4);
  testing::expect_tensor_near(plan.run(b.feeds, {"y"})[0], b.run(0, CpuLevel::Scalar)[0], 1e-5);
}

TEST(SessionMemoryPlan, InputStillReadLaterIsNotOverwritten) {
  GraphBuilder b;
  b.input("x", random_tensor({4, 40}, 3));
  b.constant("w", random_tensor({40, 40}, 4, -0.3f, 0.3f));
  b.node("MatMul", {"x", "w"}, "h");
  b.node("Relu", {"h"}, "r");
  b.node("Add", {"r", "h"}, "y");  // h is read after the Relu
  b.output("y");
  runtime::Plan plan(b.model, SessionOptions{.optimization_level = 0});
  const MemoryPlan report = plan.memory_plan(b.feeds, {"y"});
  EXPECT_EQ(report.in_place_outputs, 1);  // the Add writes over r or h, both dead after it
  std::vector<float> expected(160);
  const Tensor x = b.feeds.at("x"), w = b.model.graph.initializers.at("w");
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 40; ++j) {
      float acc = 0;
      for (int k = 0; k < 40; ++k) acc += x.data<float>()[i * 40 + k] * w.data<float>()[k * 40 + j];
      expected[static_cast<size_t>(i * 40 + j)] = std::max(acc, 0.0f) + acc;
    }
  for (int run = 0; run < 3; ++run) {
    const Tensor y = plan.run(b.feeds, {"y"})[0];
    for (size_t i = 0; i < expected.size(); ++i) ASSERT_NEAR(y.data<float>()[i], expected[i], 1e-4) << i;
  }
}

TEST(SessionMemoryPlan, ResultsKeptByTheCallerSurviveLaterRuns) {
  GraphBuilder b = activation_chain();
  runtime::Plan plan(b.model, SessionOptions{.optimization_level = 0});
  const Tensor first = plan.run(b.feeds, {"y"})[0];
  const Tensor copy = first.clone();
  for (uint32_t seed = 10; seed < 14; ++seed) plan.run({{"x", random_tensor({8, 48}, seed)}}, {"y"});
  EXPECT_EQ(std::memcmp(first.raw(), copy.raw(), copy.nbytes()), 0);
}

TEST(SessionMemoryPlan, ReusePeakIsBelowTheSumOfBuffers) {
  // A chain of six MatMuls: at most two activations are alive at once.
  GraphBuilder b;
  b.input("x", random_tensor({16, 64}, 5));
  b.constant("w", random_tensor({64, 64}, 6, -0.2f, 0.2f));
  std::string previous = "x";
  for (int i = 0; i < 6; ++i) {
    const std::string out = i == 5 ? "y" : "h" + std::to_string(i);
    b.node("MatMul", {previous, "w"}, out);
    previous = out;
  }
  b.output("y");
  runtime::Plan plan(b.model, SessionOptions{.optimization_level = 0});
  const MemoryPlan report = plan.memory_plan(b.feeds, {"y"});
  EXPECT_EQ(report.planned_bytes, 5u * 16 * 64 * 4);
  EXPECT_EQ(report.peak_bytes, 2u * 16 * 64 * 4);
  EXPECT_EQ(report.steps, 6);
}

}  // namespace
}  // namespace kiln
