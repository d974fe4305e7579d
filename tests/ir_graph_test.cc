#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ir/graph_edit.h"

namespace kiln::ir {
namespace {

Node make(const std::string& name, std::vector<std::string> in, std::vector<std::string> out) {
  return {name, "Relu", "", std::move(in), std::move(out), {}};
}

// x -> a -> b -> y, with the nodes stored out of order.
Graph chain() {
  Graph g;
  g.inputs.push_back({"x", DType::Float32, std::nullopt});
  g.nodes = {make("second", {"a"}, {"b"}), make("third", {"b"}, {"y"}), make("first", {"x"}, {"a"})};
  g.outputs.push_back({"y", DType::Float32, std::nullopt});
  return g;
}

TEST(Graph, TopologicalOrderPutsProducersFirst) {
  const Graph g = chain();
  EXPECT_EQ(g.topological_order(), (std::vector<size_t>{2, 0, 1}));
}

TEST(Graph, CycleIsReportedWithANode) {
  Graph g;
  g.nodes = {make("p", {"q_out"}, {"p_out"}), make("q", {"p_out"}, {"q_out"})};
  try {
    g.topological_order();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidModel);
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos) << e.what();
  }
}

TEST(Graph, ValidateRejectsDuplicateDefinitionsAndDanglingInputs) {
  Graph dup = chain();
  dup.nodes.push_back(make("again", {"x"}, {"a"}));
  EXPECT_THROW(dup.validate(), Error);
  Graph dangling = chain();
  dangling.nodes.push_back(make("lost", {"nowhere"}, {"z"}));
  try {
    dangling.validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'nowhere'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("node 'lost' (Relu)"), std::string::npos) << e.what();
  }
}

TEST(Graph, FindValueCoversInitializers) {
  Graph g = chain();
  g.initializers["w"] = Tensor::zeros(DType::Float32, {2, 3});
  const auto v = g.find_value("w");
  ASSERT_TRUE(v && v->shape);
  EXPECT_EQ(v->dtype, DType::Float32);
  EXPECT_EQ(dims_to_string(*v->shape), "[2,3]");
  EXPECT_FALSE(g.find_value("absent"));
}

TEST(GraphEdit, ReplaceUsesRewiresNodesAndOutputs) {
  Graph g = chain();
  replace_uses(g, "b", "a");
  EXPECT_EQ(consumers_of(g, "a"), (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(consumers_of(g, "b").empty());
  replace_uses(g, "y", "b");
  EXPECT_TRUE(is_graph_output(g, "b"));
}

TEST(GraphEdit, RemoveNodesKeepsTheRestInOrder) {
  Graph g = chain();
  remove_nodes(g, {2, 0, 2});
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].name, "third");
}

TEST(GraphEdit, UniqueValueNameAvoidsEveryDefinedName) {
  Graph g = chain();
  EXPECT_EQ(unique_value_name(g, "fresh"), "fresh");
  EXPECT_EQ(unique_value_name(g, "a"), "a_2");
}

}  // namespace
}  // namespace kiln::ir
