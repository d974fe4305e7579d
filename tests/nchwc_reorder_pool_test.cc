// The NCHWc reorders and pools (kiln.NchwcReorderInput/Output, kiln.Nchwc*Pool) at every CPU
// level, each with its own block: the reorders against a plain loop and as a round trip, the pools
// between reorders against the ONNX pool of the NCHW tensor at the reference level. Channel
// counts that are not a multiple of the block and odd spatial sizes hit the tails.
#include "graph_builder.h"
#include "kernels/cpu/nchwc.h"
#include "level_sweep.h"
#include "passes/pass.h"

namespace kiln {
namespace {

using namespace kiln::testing;
using Ints = std::vector<int64_t>;
using Attributes = std::map<std::string, ir::Attribute>;

class NchwcReorderPool : public LevelSweep {
 protected:
  int64_t block() const { return kernels::nchwc_block(GetParam()); }
  NodeSpec nchwc_node(const std::string& op, const Tensor& x, Attributes attributes, int threads) const {
    attributes["block"] = block();
    return {.op = op, .inputs = {x}, .attributes = attributes, .opset = 1, .domain = "kiln",
            .cpu_level = cpu_level_name(GetParam()), .threads = threads};
  }
};

// x [N, C, H, W] in NCHWc, by the definition: padded channels zero.
Tensor nchwc_by_loop(const Tensor& x, int64_t block) {
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3), blocks = kernels::nchwc_blocks(c, block);
  Tensor y(DType::Float32, {n, blocks, x.dim(2), x.dim(3), block});
  std::fill_n(y.data<float>(), y.numel(), 0.f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        y.data<float>()[((i * blocks + ch / block) * hw + p) * block + ch % block] = x.data<float>()[(i * c + ch) * hw + p];
  return y;
}

TEST_P(NchwcReorderPool, ReordersMatchALoopAndRoundTrip) {
  uint32_t seed = 1;
  for (int64_t channels : {1, 3, 8, 13, 16, 17, 33})
    for (const Shape& spatial : {Shape{1, 1}, Shape{5, 7}, Shape{9, 131}}) {
      const Tensor x = random_tensor({2, channels, spatial[0], spatial[1]}, seed++);
      for (int threads : {1, 3}) {
        SCOPED_TRACE(::testing::Message() << shape_to_string(x.shape()) << ", " << threads << " threads");
        const Tensor blocked = run_node(nchwc_node("NchwcReorderInput", x, {}, threads))[0];
        expect_tensor_near(blocked, nchwc_by_loop(x, block()), 0, 0);
        expect_tensor_near(run_node(nchwc_node("NchwcReorderOutput", blocked, {{"channels", channels}}, threads))[0], x, 0, 0);
      }
    }
}

// x -> NchwcReorderInput -> kiln.<nchwc_op> -> NchwcReorderOutput, at the level under test.
std::vector<Tensor> run_between_reorders(const std::string& nchwc_op, const Tensor& x, Attributes attributes,
                                         CpuLevel level, int threads) {
  const int64_t block = kernels::nchwc_block(level);
  GraphBuilder b;
  passes::import_kiln_domain(b.model);
  b.input("x", x);
  b.node("NchwcReorderInput", {"x"}, "xb", {{"block", block}}).domain = "kiln";
  attributes["block"] = block;
  b.node(nchwc_op, {"xb"}, "yb", attributes).domain = "kiln";
  b.node("NchwcReorderOutput", {"yb"}, "y", {{"block", block}, {"channels", x.dim(1)}}).domain = "kiln";
  b.output("y");
  return b.run(0, level, threads);
}

struct PoolCase {
  Shape x;
  Attributes attributes;
};

TEST_P(NchwcReorderPool, PoolsMatchTheOnnxPools) {
  const PoolCase cases[] = {
      {{1, 3, 13, 13}, {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}},
      {{2, 17, 13, 11}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}},
      {{2, 17, 13, 11}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}}},
      {{1, 33, 9, 7}, {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}}},
      {{1, 13, 17, 19}, {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{3, 3}}, {"pads", Ints{0, 2, 2, 1}}}},
      {{1, 16, 10, 10}, {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{3, 3}}, {"ceil_mode", int64_t{1}}}},
      {{1, 8, 9, 11}, {{"kernel_shape", Ints{4, 4}}, {"auto_pad", std::string("VALID")}, {"strides", Ints{1, 2}}}},
      {{1, 1, 3, 3}, {{"kernel_shape", Ints{5, 5}}, {"pads", Ints{2, 2, 2, 2}}}},
      {{1, 5, 1, 1}, {{"kernel_shape", Ints{1, 1}}}},
  };
  uint32_t seed = 20;
  for (const PoolCase& c : cases) {
    const Tensor x = random_tensor(c.x, seed++, -2.f, 2.f);
    // MaxPool only: AveragePool has dilations from opset 19, and NchwcAveragePool takes them too.
    Attributes dilated = c.attributes;
    dilated["dilations"] = Ints{2, 1};
    std::vector<std::pair<std::string, Attributes>> pools = {{"MaxPool", c.attributes}, {"MaxPool", dilated}};
    for (int64_t include_pad : {0, 1}) {
      Attributes average = c.attributes;
      average["count_include_pad"] = include_pad;
      pools.emplace_back("AveragePool", average);
    }
    for (const auto& [op, attributes] : pools) {
      Tensor expected;
      try {
        expected = run_node({.op = op, .inputs = {x}, .attributes = attributes, .cpu_level = "scalar"})[0];
      } catch (const Error&) {
        continue;  // a dilated window that does not fit this input
      }
      for (int threads : {1, 3}) {
        SCOPED_TRACE(::testing::Message() << op << " " << shape_to_string(c.x) << ", " << threads << " threads");
        expect_tensor_near(run_between_reorders("Nchwc" + op, x, attributes, GetParam(), threads)[0], expected, 0, 0);
      }
    }
  }
}

TEST_P(NchwcReorderPool, GlobalPoolsMatchTheOnnxPools) {
  uint32_t seed = 40;
  for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{2, 13, 7, 7}, Shape{1, 33, 5, 9}, Shape{1, 64, 56, 56}}) {
    const Tensor x = random_tensor(shape, seed++);
    for (const std::string op : {"GlobalAveragePool", "GlobalMaxPool"}) {
      const Tensor expected = run_node({.op = op, .inputs = {x}, .cpu_level = "scalar"})[0];
      for (int threads : {1, 3}) {
        SCOPED_TRACE(::testing::Message() << op << " " << shape_to_string(shape) << ", " << threads << " threads");
        expect_tensor_near(run_between_reorders("Nchwc" + op, x, {}, GetParam(), threads)[0], expected, 0, 0);
      }
    }
  }
}

TEST_P(NchwcReorderPool, BlockOfAnotherLevelIsAnError) {
  const int64_t wrong = block() == 16 ? 8 : 16;
  NodeSpec spec = nchwc_node("NchwcGlobalMaxPool", random_tensor({1, 1, 2, 2, wrong}, 60), {}, 1);
  spec.attributes["block"] = wrong;
  expect_node_error(spec, ErrorCode::InvalidModel,
                    "node 'NchwcGlobalMaxPool_under_test' (kiln.NchwcGlobalMaxPool) opset 1: block " + std::to_string(wrong) +
                        " does not match CPU level " + cpu_level_name(GetParam()) + ", whose NCHWc block is " +
                        std::to_string(block()));
  expect_error_containing(nchwc_node("NchwcReorderInput", random_tensor({1, 3, 4}, 61), {}, 1), "is not float32 [N, C, H, W]");
  expect_error_containing(nchwc_node("NchwcReorderOutput", random_tensor({1, 2, 2, 2, block()}, 62), {{"channels", int64_t{3}}}, 1),
                          "does not hold 3 channels in blocks of");
}

KILN_INSTANTIATE_LEVEL_SWEEP(NchwcReorderPool);

}  // namespace
}  // namespace kiln
