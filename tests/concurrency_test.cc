// A session is immutable after creation, so run() may be called from many threads at once, and
// one thread pool may serve several runs at once. These tests also run under ThreadSanitizer.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <atomic>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "engine_models.h"
#include "test_util.h"

namespace kiln {
namespace {

// y = ((x + c) * x + c) * x ...: a chain long enough for runs to overlap.
runtime::Plan make_chain_plan(int threads, int spin_wait_us) {
  ir::Model model;
  model.opset_imports[""] = 17;
  model.graph.inputs.push_back({"x", DType::Float32, std::vector<ir::Dim>{{-1, "n"}}});
  model.graph.initializers["c"] = Tensor::from_vector<float>({1}, {0.5f});
  std::string prev = "x";
  for (int i = 0; i < 16; ++i) {
    const std::string sum = "s" + std::to_string(i), prod = "p" + std::to_string(i);
    model.graph.nodes.push_back({"add" + std::to_string(i), "Add", "", {prev, "c"}, {sum}, {}});
    model.graph.nodes.push_back({"mul" + std::to_string(i), "Mul", "", {sum, "x"}, {prod}, {}});
    prev = prod;
  }
  model.graph.outputs.push_back({prev, DType::Float32, std::nullopt});
  return runtime::Plan(std::move(model), SessionOptions{.threads = threads, .spin_wait_us = spin_wait_us});
}

float expected_chain(float x) {
  float y = x;
  for (int i = 0; i < 16; ++i) y = (y + 0.5f) * x;
  return y;
}

// Spinning pools (spin_wait_us > 0) hand work over without sleeping; both modes must be race-free.
class SessionConcurrent : public ::testing::TestWithParam<int> {};

TEST_P(SessionConcurrent, RunsFromManyThreadsGiveEachCallerItsOwnResult) {
  const runtime::Plan plan = make_chain_plan(2, GetParam());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int iter = 0; iter < 50; ++iter) {
        const float x = 0.01f * static_cast<float>(t * 100 + iter);
        const int64_t n = 1 + (t + iter) % 7;
        const Tensor in = Tensor::from_vector<float>({n}, std::vector<float>(static_cast<size_t>(n), x));
        const auto out = plan.run({{"x", in}}, {"p15"});
        for (int64_t i = 0; i < n; ++i)
          if (out[0].data<float>()[i] != expected_chain(x)) ++mismatches;
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(mismatches.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(SpinWait, SessionConcurrent, ::testing::Values(0, 50));

class ThreadPoolConcurrent : public ::testing::TestWithParam<int> {};

TEST_P(ThreadPoolConcurrent, ParallelForCoversEveryIndexOnceFromSeveralCallers) {
  ThreadPool pool(3, GetParam());
  std::vector<std::thread> callers;
  std::atomic<int> bad{0};
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> hits(1000);
        pool.parallel_for(1000, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        });
        for (auto& h : hits) bad += h.load() != 1;
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(bad.load(), 0);
}

// Records the ranges a call hands out, in order of their starts.
std::vector<std::pair<int64_t, int64_t>> ranges_of(ThreadPool& pool, int64_t n, int64_t grain) {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    std::lock_guard lock(mutex);
    ranges.emplace_back(b, e);
  }, grain);
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

TEST_P(ThreadPoolConcurrent, PiecesTileTheRangeInWholeGrains) {
  // (n, grain): n below two grains runs as one piece.
  const std::pair<int64_t, int64_t> cases[] = {{1, 1}, {2, 1}, {7, 3}, {100, 1}, {1000, 16}, {1001, 1000}, {5, 10}};
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads, GetParam());
    for (auto [n, grain] : cases) {
      SCOPED_TRACE(::testing::Message() << threads << " threads, n " << n << ", grain " << grain);
      const auto ranges = ranges_of(pool, n, grain);
      int64_t next = 0;
      for (auto [b, e] : ranges) {
        EXPECT_EQ(b, next);
        EXPECT_EQ(b % grain, 0);
        EXPECT_GE(e - b, std::min(grain, n));
        next = e;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST_P(ThreadPoolConcurrent, RangesBeyondFourBillionItemsSplitIntoFewPieces) {
  ThreadPool pool(3, GetParam());
  const int64_t n = int64_t{3} << 32;
  const auto ranges = ranges_of(pool, n, 1);
  ASSERT_FALSE(ranges.empty());
  EXPECT_LE(ranges.size(), 300u);  // claims shrink geometrically: about 70 per part
  int64_t next = 0;
  for (auto [b, e] : ranges) {
    EXPECT_EQ(b, next);
    next = e;
  }
  EXPECT_EQ(next, n);
}

TEST_P(ThreadPoolConcurrent, CallsFromInsidePiecesComplete) {
  ThreadPool pool(3, GetParam());
  std::atomic<int64_t> sum{0};
  pool.parallel_for(6, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      pool.parallel_for(50, [&](int64_t ib, int64_t ie) { sum += ie - ib; });
  });
  EXPECT_EQ(sum.load(), 300);
}

// Another call's piece may hold a worker for as long as it likes: a call whose worker is busy
// takes that worker's part itself. Here the first call's pieces wait for the second call to end,
// so the test hangs if the second call ever waits for the worker.
TEST_P(ThreadPoolConcurrent, ABusyWorkerNeverHoldsUpAnotherCall) {
  ThreadPool pool(2, GetParam());
  std::atomic<bool> first_started{false}, second_done{false};
  std::thread first([&] {
    pool.parallel_for(2, [&](int64_t, int64_t) {
      first_started = true;
      while (!second_done) std::this_thread::yield();
    });
  });
  while (!first_started) std::this_thread::yield();
  std::vector<std::atomic<int>> hits(64);
  pool.parallel_for(64, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
  });
  second_done = true;
  first.join();
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(SpinWait, ThreadPoolConcurrent, ::testing::Values(0, 50));

// A convolution stack whose kernels keep per-thread scratch: a padded 3x3 (padded-row buffer), an
// expansion and depthwise pair whose expanded image exceeds 2 MB (the fused op's ring of rows),
// a projection. Runs from several threads, batch 1 and 2, must equal a lone run bit for bit.
runtime::Plan make_conv_plan(int spin_wait_us) {
  ir::Model model;
  model.opset_imports[""] = 17;
  model.graph.inputs.push_back({"x", DType::Float32, std::vector<ir::Dim>{{-1, "n"}, {16, {}}, {72, {}}, {72, {}}}});
  model.graph.initializers["w3"] = testing::random_tensor({16, 16, 3, 3}, 1, -0.2f, 0.2f);
  model.graph.initializers["expand"] = testing::random_tensor({128, 16, 1, 1}, 2, -0.3f, 0.3f);
  model.graph.initializers["dw"] = testing::random_tensor({128, 1, 3, 3}, 3, -0.3f, 0.3f);
  model.graph.initializers["project"] = testing::random_tensor({16, 128, 1, 1}, 4, -0.1f, 0.1f);
  const std::map<std::string, ir::Attribute> pad1{{"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  auto add = [&](const char* op, std::vector<std::string> in, const char* out, std::map<std::string, ir::Attribute> a) {
    model.graph.nodes.push_back({std::string(out) + "_node", op, "", std::move(in), {out}, std::move(a)});
  };
  add("Conv", {"x", "w3"}, "c", pad1);
  add("Relu", {"c"}, "r", {});
  add("Conv", {"r", "expand"}, "e", {});
  add("Relu", {"e"}, "e6", {});
  auto depthwise = pad1;
  depthwise["group"] = int64_t{128};
  add("Conv", {"e6", "dw"}, "d", depthwise);
  add("Conv", {"d", "project"}, "y", {});
  model.graph.outputs.push_back({"y", DType::Float32, std::nullopt});
  return runtime::Plan(std::move(model), SessionOptions{.threads = 2, .spin_wait_us = spin_wait_us});
}

TEST_P(SessionConcurrent, ConvolutionScratchIsPerThread) {
  const runtime::Plan plan = make_conv_plan(GetParam());
  std::vector<Tensor> inputs, expected;
  for (int64_t n : {1, 2}) {
    inputs.push_back(testing::random_tensor({n, 16, 72, 72}, static_cast<uint32_t>(10 + n)));
    expected.push_back(plan.run({{"x", inputs.back()}}, {"y"})[0]);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&, t] {
      for (int iter = 0; iter < 2; ++iter) {
        const size_t which = static_cast<size_t>(t + iter) % inputs.size();
        const Tensor out = plan.run({{"x", inputs[which]}}, {"y"})[0];
        for (int64_t i = 0; i < out.numel(); ++i)
          if (out.data<float>()[i] != expected[which].data<float>()[i]) ++mismatches;
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// The concurrency contract (docs/architecture.md): one session, 32 threads calling run at once,
// each run's outputs bit-identical to what a single caller gets for its inputs. The session comes
// from an engine file (weights mapped, prepared at build) and records a profile meanwhile, so the
// engine's shared bytes and the trace's recording are both under test.
TEST(SessionConcurrent, ThirtyTwoCallersGetTheSingleCallersResultsBitForBit) {
  const testing::TempDir dir("concurrency_engine");
  const std::string engine = (dir.path() / "mixed.kiln").string();
  testing::make_session(testing::make_mixed_model(), {.optimized_model_path = engine});
  Session session(engine, {.threads = 2, .enable_profiling = true});
  constexpr int kCallers = 32, kRuns = 12;
  std::vector<std::map<std::string, Tensor>> feeds;
  std::vector<std::map<std::string, Tensor>> expected;
  for (int i = 0; i < 4; ++i) {
    feeds.push_back(testing::mixed_model_feeds(1 + i % 2, static_cast<uint32_t>(100 + i)));
    expected.push_back(session.run(feeds.back()));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t)
    callers.emplace_back([&, t] {
      for (int run = 0; run < kRuns; ++run) {
        const size_t which = static_cast<size_t>(t + run) % feeds.size();
        for (const auto& [name, out] : session.run(feeds[which])) {
          const Tensor& want = expected[which].at(name);
          if (out.shape() != want.shape() || std::memcmp(out.raw(), want.raw(), want.nbytes()) != 0) ++mismatches;
        }
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(mismatches.load(), 0);
  const std::string trace = session.end_profiling((dir.path() / "trace.json").string());
  std::ifstream in(trace);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t runs = 0;
  for (size_t at = text.find("\"model_run\""); at != std::string::npos; at = text.find("\"model_run\"", at + 1)) ++runs;
  EXPECT_EQ(runs, static_cast<size_t>(feeds.size() + kCallers * kRuns));
}

TEST(ThreadPool, NegativeSpinWaitIsAnError) {
  EXPECT_THROW(make_chain_plan(2, -1), Error);
}

TEST(ThreadPool, RethrowsTheFirstExceptionAfterAllChunksFinish) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(100, [](int64_t b, int64_t) {
    if (b == 0) throw Error(ErrorCode::Runtime, "chunk failed");
  }), Error);
}

TEST(ThreadPool, SingleThreadRunsInline) {
  ThreadPool pool(1);
  int64_t seen = 0;
  pool.parallel_for(10, [&](int64_t b, int64_t e) { seen += e - b; });
  EXPECT_EQ(seen, 10);
}

}  // namespace
}  // namespace kiln
