// kiln::Session's checks on what a caller feeds and asks for: every mistake is an InvalidArgument
// error naming the input or output and what the model expects.
#include <filesystem>
#include <fstream>

#include "onnx_builder.h"
#include "test_util.h"

namespace kiln {
namespace {

using namespace testing;

// y = a + b and z = y * y, with a: float[N,3] and b: float[3] fed by the caller.
onnx::ModelProto two_input_model() {
  onnx::ModelProto model = make_model();
  auto& graph = *model.mutable_graph();
  add_input(graph, "a", onnx::TensorProto::FLOAT, {"N", 3});
  add_input(graph, "b", onnx::TensorProto::FLOAT, {3});
  add_node(graph, "Add", {"a", "b"}, {"y"});
  add_node(graph, "Mul", {"y", "y"}, {"z"});
  add_output(graph, "y");
  add_output(graph, "z");
  return model;
}

class SessionApi : public ::testing::Test {
 protected:
  const Session session_ = make_session(two_input_model());
  const Tensor a_ = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b_ = Tensor::from_vector<float>({3}, {1, 1, 1});
};

TEST_F(SessionApi, ReportsInputsAndOutputs) {
  ASSERT_EQ(session_.inputs().size(), 2u);
  EXPECT_EQ(session_.inputs()[1].name, "b");
  EXPECT_EQ(session_.inputs()[1].shape, Shape{3});
  ASSERT_EQ(session_.outputs().size(), 2u);
  EXPECT_EQ(session_.outputs()[1].name, "z");
  EXPECT_EQ(session_.outputs()[1].dtype, DType::Float32);
}

TEST_F(SessionApi, SymbolicDimAcceptsAnySize) {
  const auto out = session_.run({{"a", Tensor::from_vector<float>({1, 3}, {1, 2, 3})}, {"b", b_}});
  expect_tensor_near(out.at("z"), Tensor::from_vector<float>({1, 3}, {4, 9, 16}), 0, 0);
}

TEST(SessionApiDims, OverridesMakeSymbolicDimsStatic) {
  SessionOptions options;
  options.dim_overrides = {{"N", 2}};
  const Session session = make_session(two_input_model(), options);
  EXPECT_EQ(session.inputs()[0].shape, (Shape{2, 3}));
  EXPECT_EQ(session.inputs()[0].dim_names[0], "N");
  const Tensor b = Tensor::from_vector<float>({3}, {1, 1, 1});
  EXPECT_EQ(session.run({{"a", random_tensor({2, 3}, 1)}, {"b", b}}).at("z").shape(), (Shape{2, 3}));
  EXPECT_THROW(session.run({{"a", random_tensor({1, 3}, 2)}, {"b", b}}), Error);
  options.dim_overrides = {{"M", 2}};
  EXPECT_THROW(make_session(two_input_model(), options), Error);
  options.dim_overrides = {{"N", 0}};
  EXPECT_THROW(make_session(two_input_model(), options), Error);
}

TEST_F(SessionApi, ReturnsNamedOutputsInTheOrderAsked) {
  const auto out = session_.run({{"a", a_}, {"b", b_}}, {"z", "y"});
  ASSERT_EQ(out.size(), 2u);
  expect_tensor_near(out[0], Tensor::from_vector<float>({2, 3}, {4, 9, 16, 25, 36, 49}), 0, 0);
  expect_tensor_near(out[1], Tensor::from_vector<float>({2, 3}, {2, 3, 4, 5, 6, 7}), 0, 0);
}

TEST_F(SessionApi, UnknownInputName) {
  expect_error([&] { session_.run({{"a", a_}, {"b", b_}, {"c", b_}}); }, ErrorCode::InvalidArgument,
               {"the model has no input 'c'; its inputs are: a, b"});
}

TEST_F(SessionApi, MissingInput) {
  expect_error([&] { session_.run({{"a", a_}}); }, ErrorCode::InvalidArgument,
               {"input 'b' (float32 [3]) was not given"});
}

TEST_F(SessionApi, WrongDtype) {
  const Tensor ints = Tensor::from_vector<int64_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_error([&] { session_.run({{"a", ints}, {"b", b_}}); }, ErrorCode::InvalidArgument,
               {"input 'a' must be float32 [N,3], got int64 [2,3]"});
}

TEST_F(SessionApi, WrongRankOrStaticDim) {
  expect_error([&] { session_.run({{"a", b_}, {"b", b_}}); }, ErrorCode::InvalidArgument,
               {"input 'a' must have shape float32 [N,3], got [3]"});
  const Tensor four_wide = Tensor::from_vector<float>({1, 4}, {1, 2, 3, 4});
  expect_error([&] { session_.run({{"a", four_wide}, {"b", b_}}); }, ErrorCode::InvalidArgument,
               {"input 'a' must have shape float32 [N,3], got [1,4]"});
  expect_error([&] { session_.run({{"a", a_}, {"b", Tensor::from_vector<float>({1, 3}, {1, 2, 3})}}); },
               ErrorCode::InvalidArgument, {"input 'b' must have shape float32 [3], got [1,3]"});
}

TEST_F(SessionApi, UnknownOutputName) {
  expect_error([&] { session_.run({{"a", a_}, {"b", b_}}, {"z", "nope"}); }, ErrorCode::InvalidArgument,
               {"the model has no output 'nope'; its outputs are: y, z"});
}

// Intermediate values and inputs are no outputs: the executor frees values after their last reader.
TEST(SessionApiOutputs, OnlyGraphOutputsCanBeAskedFor) {
  onnx::ModelProto model = two_input_model();
  model.mutable_graph()->mutable_output()->DeleteSubrange(0, 1);  // y becomes an intermediate value
  const Session session = make_session(model);
  const std::map<std::string, Tensor> feeds = {{"a", Tensor::from_vector<float>({1, 3}, {1, 2, 3})},
                                               {"b", Tensor::from_vector<float>({3}, {0, 0, 0})}};
  for (const std::string name : {"y", "a"})
    expect_error([&] { session.run(feeds, {name}); }, ErrorCode::InvalidArgument,
                 {"the model has no output '" + name + "'; its outputs are: z"});
}

// A caller may write into its outputs; an output that is a constant (or a view of one, at level 0
// where Reshape is not folded) must leave the session's constant as it was for the next run.
TEST(SessionApiOutputs, WritingIntoAConstantOutputLeavesTheSessionAsItWas) {
  onnx::ModelProto model = make_model();
  auto& graph = *model.mutable_graph();
  add_input(graph, "x", onnx::TensorProto::FLOAT, {2});
  add_initializer(graph, float_tensor("c", {2}, {1, 2}));
  onnx::TensorProto& shape = add_initializer(graph, {});
  shape.set_name("shape");
  shape.set_data_type(onnx::TensorProto::INT64);
  shape.add_dims(2);
  for (const int64_t d : {2, 1}) shape.add_int64_data(d);
  add_node(graph, "Add", {"x", "c"}, {"y"});
  add_node(graph, "Identity", {"c"}, {"same"});
  add_node(graph, "Reshape", {"c", "shape"}, {"view"});
  for (const char* name : {"y", "same", "view"}) add_output(graph, name);
  for (const int level : {0, 3}) {
    const Session session = make_session(model, {.optimization_level = level});
    const std::map<std::string, Tensor> feeds = {{"x", Tensor::from_vector<float>({2}, {0, 0})}};
    for (Tensor& out : session.run(feeds, {"same", "view"})) out.data<float>()[0] = 99;
    const auto again = session.run(feeds);
    expect_tensor_near(again.at("y"), Tensor::from_vector<float>({2}, {1, 2}), 0, 0);
    expect_tensor_near(again.at("same"), Tensor::from_vector<float>({2}, {1, 2}), 0, 0);
    expect_tensor_near(again.at("view"), Tensor::from_vector<float>({2, 1}, {1, 2}), 0, 0);
  }
}

TEST(SessionApiOutputs, MissingModelFile) {
  expect_error([] { Session("/nonexistent/model.onnx"); }, ErrorCode::Io,
               {"cannot open model file '/nonexistent/model.onnx'"});
}

// The model file is mapped, not read: a directory or an empty file must still be a clear error.
TEST(SessionApiOutputs, ModelPathThatIsNoModel) {
  expect_error([] { Session(KILN_SOURCE_DIR); }, ErrorCode::Io, {"is not a regular file"});
  const std::filesystem::path empty = std::filesystem::temp_directory_path() / "kiln_empty_model.onnx";
  std::ofstream(empty).close();
  expect_error([&] { Session(empty.string()); }, ErrorCode::InvalidModel, {"kiln_empty_model.onnx: "});
  std::filesystem::remove(empty);
}

}  // namespace
}  // namespace kiln
