// kiln.Attention: the fast kernel against its reference over odd shapes, masks of every broadcast
// form, each CPU level and thread count; the op's input checks; and FuseAttention on the
// subgraph PyTorch exports for multi-head attention.
#include <gtest/gtest.h>

#include "graph_builder.h"
#include "kernels/cpu/attention.h"
#include "level_sweep.h"

namespace kiln {
namespace {

using kernels::AttentionMask;
using kernels::AttentionShape;
using testing::GraphBuilder;
using testing::random_tensor;
using Ints = std::vector<int64_t>;

// The mask forms the fused op accepts, as strides over [batch, heads, q_seq, kv_seq].
enum class MaskForm { None, PerKey, PerBatchAndKey, PerQueryAndKey, Full };

struct MaskCase {
  Tensor values;
  AttentionMask mask;
};

MaskCase make_mask(MaskForm form, const AttentionShape& s, uint32_t seed) {
  const int64_t b = s.batch, h = s.heads, q = s.q_seq, k = s.kv_seq;
  switch (form) {
    case MaskForm::None: return {};
    case MaskForm::PerKey: {
      Tensor t = random_tensor({k}, seed, -3.f, 0.f);
      return {t, {t.data<float>(), 0, 0, 0, 1}};
    }
    case MaskForm::PerBatchAndKey: {
      Tensor t = random_tensor({b, 1, 1, k}, seed, -3.f, 0.f);
      return {t, {t.data<float>(), k, 0, 0, 1}};
    }
    case MaskForm::PerQueryAndKey: {
      Tensor t = random_tensor({q, k}, seed, -3.f, 0.f);
      return {t, {t.data<float>(), 0, 0, k, 1}};
    }
    case MaskForm::Full: {
      Tensor t = random_tensor({b, h, q, k}, seed, -3.f, 0.f);
      return {t, {t.data<float>(), h * q * k, q * k, k, 1}};
    }
  }
  return {};
}

class AttentionKernelTest : public testing::LevelSweep {};

TEST_P(AttentionKernelTest, MatchesReferenceOverShapesAndMasks) {
  const AttentionShape shapes[] = {{1, 1, 1, 1, 1},  {1, 3, 5, 2, 7},    {2, 13, 13, 3, 16},
                                   {1, 127, 127, 2, 64}, {1, 130, 70, 1, 33}, {2, 65, 3, 4, 8},
                                   {1, 5, 700, 2, 16}};  // three blocks of keys, the last partial
  uint32_t seed = 1;
  for (const AttentionShape& s : shapes)
    for (MaskForm form : {MaskForm::None, MaskForm::PerKey, MaskForm::PerBatchAndKey, MaskForm::PerQueryAndKey, MaskForm::Full}) {
      SCOPED_TRACE(::testing::Message() << "batch " << s.batch << ", q " << s.q_seq << ", kv " << s.kv_seq << ", heads "
                                        << s.heads << ", head size " << s.head_size << ", mask form "
                                        << static_cast<int>(form));
      const int64_t width = s.heads * s.head_size;
      const Tensor q = random_tensor({s.batch, s.q_seq, width}, seed++, -2.f, 2.f);
      const Tensor k = random_tensor({s.batch, s.kv_seq, width}, seed++, -2.f, 2.f);
      const Tensor v = random_tensor({s.batch, s.kv_seq, width}, seed++);
      const MaskCase mask = make_mask(form, s, seed++);
      const float scale = 1.f / std::sqrt(static_cast<float>(s.head_size));
      Tensor expected(DType::Float32, q.shape());
      kernels::attention_ref(s, q.data<float>(), k.data<float>(), v.data<float>(), mask.mask, scale, expected.data<float>());
      for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        Tensor actual(DType::Float32, q.shape());
        kernels::attention(GetParam(), s, q.data<float>(), k.data<float>(), v.data<float>(), mask.mask, scale,
                           actual.data<float>(), pool);
        testing::expect_tensor_near(actual, expected, 2e-6, 1e-5);
      }
    }
}

KILN_INSTANTIATE_LEVEL_SWEEP(AttentionKernelTest);

testing::NodeSpec attention_spec(std::vector<Tensor> inputs, Ints expected_dims = Ints(8, 0)) {
  return {.op = "Attention",
          .inputs = std::move(inputs),
          .attributes = {{"num_heads", int64_t{2}}, {"scale", 0.5f}, {"expected_dims", expected_dims}},
          .opset = 1,
          .domain = "kiln"};
}

TEST(AttentionOp, RejectsWhatTheReplacedSubgraphWouldNotCompute) {
  const Tensor q = random_tensor({1, 4, 6}, 10), kv = random_tensor({1, 5, 6}, 11);
  testing::expect_error_containing(attention_spec({q, kv, kv, random_tensor({2, 1, 1, 5}, 12)}),
                                   "does not broadcast to the scores [1,2,4,5] without widening them");
  testing::expect_error_containing(attention_spec({q, kv, kv}, {1, 8, 0, 0, 0, 0, 0, 0}),
                                   "the fused Reshape of Q expects sequence 8, got 4");
  testing::expect_error_containing(attention_spec({random_tensor({1, 4, 5}, 13), kv, kv}), "with 2 heads, got float32 [1,4,5]");
  testing::expect_error_containing(attention_spec({q, kv, random_tensor({1, 4, 6}, 14)}), "do not make one attention");
  // The shapes it accepts, with a mask per key, run.
  EXPECT_EQ(testing::run_node(attention_spec({q, kv, kv, random_tensor({5}, 15)}, {1, 4, 1, 5, 1, 5, 1, 4}))[0].shape(),
            (Shape{1, 4, 6}));
}

// q, k, v [1, seq, heads * head_size] through the subgraph torch.onnx.export writes for BERT's
// self-attention (after CancelTransposes merges K's two transposes), optionally masked.
// With `computed_mask`, the mask is (1 - keep) * -10000 from a 0/1 input, as Hugging Face's BERT
// computes it, so both operands of the mask's Add are produced by a Mul.
GraphBuilder exported_attention(bool with_mask, bool scale_by_mul, int64_t seq = 9, int64_t heads = 3, int64_t size = 4,
                                bool computed_mask = false) {
  GraphBuilder b;
  for (const char* name : {"q", "k", "v"}) b.input(name, random_tensor({1, seq, heads * size}, name[0], -2.f, 2.f));
  if (with_mask && !computed_mask) b.input("mask", random_tensor({1, 1, 1, seq}, 20, -4.f, 0.f));
  if (computed_mask) {
    Tensor keep(DType::Float32, {1, 1, 1, seq});
    for (int64_t j = 0; j < seq; ++j) keep.data<float>()[j] = j % 3 == 2 ? 0.f : 1.f;
    b.input("keep", keep);
    b.constant("one", Tensor::scalar(1.f));
    b.constant("minus_big", Tensor::scalar(-10000.f));
    b.node("Sub", {"one", "keep"}, "dropped");
    b.node("Mul", {"dropped", "minus_big"}, "mask");
  }
  b.constant("split", Tensor::from_vector<int64_t>({4}, {1, seq, heads, size}));
  b.constant("merged", Tensor::from_vector<int64_t>({3}, {1, seq, heads * size}));
  b.constant("c", Tensor::scalar(scale_by_mul ? 0.5f : 2.f));
  for (const char* name : {"q", "k", "v"}) {
    const std::string n = name;
    b.node("Reshape", {n, "split"}, n + "_split");
    b.node("Transpose", {n + "_split"}, n + "_heads", {{"perm", n == "k" ? Ints{0, 2, 3, 1} : Ints{0, 2, 1, 3}}});
  }
  b.node("MatMul", {"q_heads", "k_heads"}, "scores");
  b.node(scale_by_mul ? "Mul" : "Div", {"scores", "c"}, "scaled");
  if (with_mask) b.node("Add", {"mask", "scaled"}, "masked");
  b.node("Softmax", {with_mask ? "masked" : "scaled"}, "p", {{"axis", int64_t{-1}}});
  b.node("MatMul", {"p", "v_heads"}, "context");
  b.node("Transpose", {"context"}, "context_t", {{"perm", Ints{0, 2, 1, 3}}});
  b.node("Reshape", {"context_t", "merged"}, "y");
  b.output("y");
  return b;
}

class FuseAttentionTest : public testing::LevelSweep {};

TEST_P(FuseAttentionTest, ExportedSelfAttentionBecomesOneNode) {
  for (bool with_mask : {true, false})
    for (bool scale_by_mul : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "mask " << with_mask << ", Mul " << scale_by_mul);
      const GraphBuilder b = exported_attention(with_mask, scale_by_mul);
      const ir::Model m = b.optimized(2, GetParam());
      ASSERT_EQ(m.graph.nodes.size(), 1u);
      const ir::Node& fused = m.graph.nodes[0];
      EXPECT_EQ(fused.op_type, "Attention");
      EXPECT_EQ(fused.name, "y_node");
      EXPECT_EQ(std::get<int64_t>(fused.attributes.at("num_heads")), 3);
      EXPECT_FLOAT_EQ(std::get<float>(fused.attributes.at("scale")), 0.5f);
      EXPECT_EQ(fused.inputs.size(), with_mask ? 4u : 3u);
      for (int threads : {1, 3}) b.expect_matches_unoptimized(2, 2e-6, GetParam(), threads);
    }
  // Past one block of query rows.
  exported_attention(true, false, 70, 2, 8).expect_matches_unoptimized(2, 2e-6, GetParam(), 2);
  const GraphBuilder computed = exported_attention(true, true, 9, 3, 4, true);
  EXPECT_EQ(computed.optimized_ops(2, GetParam()), (std::vector<std::string>{"Sub", "Mul", "Attention"}));
  computed.expect_matches_unoptimized(2, 2e-6, GetParam(), 1);
}

TEST_P(FuseAttentionTest, AnObservedIntermediateKeepsTheSubgraph) {
  GraphBuilder b = exported_attention(true, false);
  b.output("p");  // the attention probabilities are wanted too
  EXPECT_EQ(b.optimized(2, GetParam()).graph.nodes.size(), 13u);
  GraphBuilder other_axis = exported_attention(false, false);
  for (ir::Node& n : other_axis.model.graph.nodes)
    if (n.op_type == "Softmax") n.attributes["axis"] = int64_t{2};
  EXPECT_EQ(other_axis.optimized(2, GetParam()).graph.nodes.size(), 12u);
}

KILN_INSTANTIATE_LEVEL_SWEEP(FuseAttentionTest);

}  // namespace
}  // namespace kiln
