// A session run 2,000 times on random sequence lengths keeps its memory bounded: the per-run
// arena frees what a run did not use, so after the largest shape has been seen once the process's
// resident memory stays flat. Fixed seed; resident memory is read from /proc/self/status.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

#include "graph_builder.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;

double resident_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // the sanitizers hold freed memory back (quarantine, shadow)
#else
constexpr bool kSanitized = false;
#endif

TEST(BoundedMemory, ResidentMemoryStaysFlatOverRandomSequenceLengths) {
  if (kSanitized) GTEST_SKIP() << "resident memory is not the program's own under a sanitizer";
  constexpr int64_t kWidth = 64, kMaxSeq = 512;
  // x [1, seq, 64]: a Linear layer with GELU, then seq x seq scores against itself and a softmax
  // over them, so that the working set grows with the square of the sequence length.
  GraphBuilder b;
  b.input("x", random_tensor({1, kMaxSeq, kWidth}, 1));
  b.model.graph.inputs[0].shape = std::vector<ir::Dim>{{1, {}}, {-1, "seq"}, {kWidth, {}}};
  b.constant("w", random_tensor({kWidth, 4 * kWidth}, 2, -0.1f, 0.1f));
  b.constant("w2", random_tensor({4 * kWidth, kWidth}, 3, -0.1f, 0.1f));
  b.node("MatMul", {"x", "w"}, "up");
  b.node("Relu", {"up"}, "act");
  b.node("MatMul", {"act", "w2"}, "down");
  b.node("Transpose", {"down"}, "down_t", {{"perm", std::vector<int64_t>{0, 2, 1}}});
  b.node("MatMul", {"down", "down_t"}, "scores");
  b.node("Softmax", {"scores"}, "p", {{"axis", int64_t{-1}}});
  b.node("MatMul", {"p", "x"}, "y");
  b.output("y");
  SessionOptions options;
  options.threads = 2;
  runtime::Plan plan(b.model, options);
  const auto run = [&](int64_t seq) {
    const auto out = plan.run({{"x", random_tensor({1, seq, kWidth}, static_cast<uint32_t>(seq))}}, {"y"});
    ASSERT_EQ(out[0].shape(), (Shape{1, seq, kWidth}));
  };
  // The arena frees after each run what that run did not use, so resident memory follows the
  // shapes of the last runs: what must not grow is its highest level over a window of runs.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> length(1, kMaxSeq);
  const auto highest_over = [&](int runs) {
    double highest = 0;
    for (int i = 0; i < runs; ++i) {
      run(i == 0 ? kMaxSeq : length(rng));
      highest = std::max(highest, resident_mb());
    }
    return highest;
  };
  const double warm = highest_over(1000);
  const double later = highest_over(1000);
  // A leak of 4 KB a run would show (leaking each run's output measured +73 MB). What varies below
  // that, up to ~2 MB between windows, is which thread's scratch grew and the malloc heap's small
  // blocks.
  EXPECT_LT(later - warm, 4.0) << "at most " << warm << " MB resident over the 1,000 warm-up runs, " << later
                               << " MB over the 1,000 after";
}

}  // namespace
}  // namespace kiln
