// The profiler (SessionOptions::enable_profiling): a Chrome trace in ONNX Runtime's event shape,
// with session creation's phases and every node of every run inside that run's span.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine_models.h"

namespace kiln {
namespace {

using nlohmann::json;
using testing::TempDir;

json read_trace(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  return json::parse(in);
}

std::vector<json> events_named(const json& trace, const std::string& category, const std::string& name = "") {
  std::vector<json> out;
  for (const json& e : trace)
    if (e["cat"] == category && (name.empty() || e["name"] == name)) out.push_back(e);
  return out;
}

TEST(Profiler, TraceHoldsCreationAndEveryNodeOfEveryRunInOrtsShape) {
  const TempDir dir("profiler_shape");
  Session session = testing::make_session(testing::make_mixed_model(), {.threads = 2, .enable_profiling = true});
  for (int i = 0; i < 3; ++i) session.run(testing::mixed_model_feeds(2, i));
  const std::string path = (dir.path() / "trace.json").string();
  ASSERT_EQ(session.end_profiling(path), path);
  const json trace = read_trace(path);
  ASSERT_TRUE(trace.is_array());
  for (const json& e : trace) {
    for (const char* key : {"cat", "pid", "tid", "ts", "dur", "ph", "name", "args"}) ASSERT_TRUE(e.contains(key)) << key << " in " << e;
    EXPECT_EQ(e["ph"], "X");
    EXPECT_TRUE(e["args"].is_object());
    EXPECT_GE(e["dur"].get<double>(), 0.0);
  }
  EXPECT_EQ(events_named(trace, "Session", "model_loading_array").size(), 1u);
  const std::vector<json> passes = events_named(trace, "Optimizer");
  ASSERT_FALSE(passes.empty());
  for (const char* key : {"level", "round"}) EXPECT_TRUE(passes.front()["args"].contains(key));

  const std::vector<json> runs = events_named(trace, "Session", "model_run");
  ASSERT_EQ(runs.size(), 3u);
  const std::vector<json> nodes = events_named(trace, "Node");
  ASSERT_FALSE(nodes.empty());
  ASSERT_EQ(nodes.size() % 3, 0u);
  size_t prepares = 0;
  for (const json& e : trace)
    if (e["cat"] == "Session" && e["name"].get<std::string>().ends_with("_prepare")) ++prepares;
  EXPECT_EQ(prepares, nodes.size() / 3) << "one _prepare event per node";
  double node_us = 0, run_us = 0;
  for (const json& run : runs) run_us += run["dur"].get<double>();
  for (const json& node : nodes) {
    const json& args = node["args"];
    EXPECT_TRUE(node["name"].get<std::string>().ends_with("_kernel_time"));
    EXPECT_EQ(args["provider"], "CPUExecutionProvider");
    EXPECT_TRUE(args["op_name"].is_string());
    ASSERT_TRUE(args["output_type_shape"].is_array());
    ASSERT_FALSE(args["output_type_shape"].empty());
    EXPECT_TRUE(args["output_type_shape"][0].is_object());
    const double start = node["ts"].get<double>(), end = start + node["dur"].get<double>();
    const bool inside = std::any_of(runs.begin(), runs.end(), [&](const json& run) {
      const double run_start = run["ts"].get<double>();
      return start >= run_start && end <= run_start + run["dur"].get<double>() && node["tid"] == run["tid"];
    });
    EXPECT_TRUE(inside) << node;
    node_us += node["dur"].get<double>();
  }
  EXPECT_LE(node_us, run_us);
  // The head MatMul's input is the flattened [2, 16] image features.
  bool found_shape = false;
  for (const json& node : nodes)
    for (const json& in : node["args"]["input_type_shape"])
      found_shape = found_shape || in == json{{"float32", {2, 16}}};
  EXPECT_TRUE(found_shape);
}

TEST(Profiler, EndsOnceAndOnlyWhenEnabled) {
  const TempDir dir("profiler_end");
  Session off = testing::make_session(testing::make_mixed_model());
  off.run(testing::mixed_model_feeds(1, 1));
  EXPECT_EQ(off.end_profiling((dir.path() / "off.json").string()), "");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "off.json"));

  const std::string prefix = (dir.path() / "prefixed").string();
  Session on = testing::make_session(testing::make_mixed_model(), {.enable_profiling = true, .profile_file_prefix = prefix});
  on.run(testing::mixed_model_feeds(1, 1));
  const std::string written = on.end_profiling();
  ASSERT_TRUE(written.starts_with(prefix + "_")) << written;
  EXPECT_TRUE(written.ends_with(".json"));
  EXPECT_EQ(events_named(read_trace(written), "Session", "model_run").size(), 1u);
  on.run(testing::mixed_model_feeds(1, 1));
  EXPECT_EQ(on.end_profiling((dir.path() / "again.json").string()), "");
}

TEST(Profiler, EngineLoadsAreTracedWithoutOptimizerPasses) {
  const TempDir dir("profiler_engine");
  const std::string engine = (dir.path() / "m.kiln").string();
  testing::make_session(testing::make_mixed_model(), {.optimized_model_path = engine});
  Session session(engine, {.enable_profiling = true});
  session.run(testing::mixed_model_feeds(1, 1));
  const json trace = read_trace(session.end_profiling((dir.path() / "t.json").string()));
  EXPECT_EQ(events_named(trace, "Session", "engine_loading").size(), 1u);
  EXPECT_TRUE(events_named(trace, "Optimizer").empty());
  EXPECT_FALSE(events_named(trace, "Node").empty());
}

}  // namespace
}  // namespace kiln
