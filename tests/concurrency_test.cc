// A session is immutable after creation, so run() may be called from many threads at once, and
// one thread pool may serve several runs at once. These tests also run under ThreadSanitizer.
#include <atomic>
#include <thread>

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
