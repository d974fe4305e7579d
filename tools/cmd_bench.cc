// `kiln bench MODEL [options]`: times session creation and repeated runs on the same inputs, in
// the spirit of onnxruntime_perf_test and trtexec. Prints min/median/p90/max latency and
// throughput, or with --json exactly one JSON line that bench/compare.mjs reads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <string>
#include <thread>

#include "bench_stats.h"
#include "commands.h"
#include "core/cpu_features.h"
#include "feeds.h"
#include "optimizer_flags.h"
#include "profile_flag.h"
#include "kiln/session.h"

namespace kiln::cli {
namespace {

constexpr int kLoadRepeats = 5;  // session creations timed by --load-only without --iterations

struct BenchArgs {
  std::string model;
  std::vector<std::string> inputs;
  int64_t free_dim = 1;
  int threads = 1;
  std::string cpu_level;
  int spin_wait_us = 0;
  int warmup = 3;
  int iterations = 0;     // 0: run for `duration` instead
  double duration = 3.0;  // seconds; the default when neither --iterations nor --duration is given
  bool load_only = false;
  bool json = false;
  OptimizerFlags optimizer;
  std::string profile;
};

struct Result {
  int threads = 0;
  std::string cpu_level;
  double load_ms = 0;
  std::vector<double> latencies_ms;  // in run order; empty with --load-only
  double seconds = 0;                // wall time of the timed runs
};

void print_json(const BenchArgs& args, const Result& r) {
  const Summary s = summarize(r.latencies_ms);
  const double runs = static_cast<double>(r.latencies_ms.size());
  const auto num = json_number;
  std::cout << "{\"model\": " << json_quote(args.model) << ", \"threads\": " << r.threads
            << ", \"median_ms\": " << num(s.median) << ", \"p90_ms\": " << num(s.p90) << ", \"min_ms\": " << num(s.min)
            << ", \"runs\": " << r.latencies_ms.size() << ", \"load_ms\": " << num(r.load_ms)
            << ", \"peak_rss_mb\": " << num(peak_rss_mb()) << ", \"max_ms\": " << num(s.max)
            << ", \"runs_per_s\": " << num(runs / r.seconds) << ", \"cpu_level\": " << json_quote(r.cpu_level)
            << ", \"latencies_ms\": [";
  for (size_t i = 0; i < r.latencies_ms.size(); ++i) std::cout << (i ? ", " : "") << num(r.latencies_ms[i]);
  std::cout << "]}\n";
}

void print_text(const BenchArgs& args, const Result& r) {
  std::cout << std::fixed << std::setprecision(3) << "model: " << args.model << "\nthreads: " << r.threads
            << ", cpu level: " << r.cpu_level << "\nsession creation: " << r.load_ms << " ms"
            << (args.load_only ? " (median)" : "") << "\n";
  if (!r.latencies_ms.empty()) {
    const Summary s = summarize(r.latencies_ms);
    const double runs = static_cast<double>(r.latencies_ms.size());
    std::cout << "runs: " << r.latencies_ms.size() << " in " << r.seconds << " s, after " << args.warmup
              << " warm-up runs\nlatency (ms): min " << s.min << ", median " << s.median << ", p90 " << s.p90
              << ", max " << s.max << "\nthroughput: " << runs / r.seconds << " runs/s\n";
  }
  std::cout << "peak RSS: " << std::setprecision(1) << peak_rss_mb() << " MB\n";
}

void bench_model(const BenchArgs& args) {
  SessionOptions options;
  options.threads = args.threads;
  options.cpu_level = args.cpu_level;
  options.spin_wait_us = args.spin_wait_us;
  args.optimizer.apply(options);
  apply_profile_flag(args.profile, options);
  Result r;
  r.threads = args.threads > 0 ? args.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  r.cpu_level = args.cpu_level.empty() ? cpu_level_name(default_cpu_level()) : args.cpu_level;

  if (args.load_only) {
    std::vector<double> loads;
    for (int i = 0; i < (args.iterations ? args.iterations : kLoadRepeats); ++i) {
      const auto start = Clock::now();
      Session session(args.model, options);
      loads.push_back(ms_since(start));
    }
    r.load_ms = summarize(loads).median;
  } else {
    const auto load_start = Clock::now();
    Session session(args.model, options);
    r.load_ms = ms_since(load_start);
    if (args.optimizer.verbose) {
    print_optimizer_report(session.optimizer_report(), std::cerr);
    print_optimizer_warnings(session.optimizer_warnings(), std::cerr);
  }
    const auto feeds = make_feeds(session, args.inputs, args.free_dim);
    for (int i = 0; i < args.warmup; ++i) session.run(feeds);
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(args.duration);
    while (args.iterations ? r.latencies_ms.size() < static_cast<size_t>(args.iterations)
                           : r.latencies_ms.empty() || Clock::now() < deadline) {
      const auto run_start = Clock::now();
      session.run(feeds);
      r.latencies_ms.push_back(ms_since(run_start));
    }
    r.seconds = ms_since(start) / 1000.0;
    finish_profile(args.profile, session);
  }
  args.json ? print_json(args, r) : print_text(args, r);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("bench", "Time session creation and repeated runs of a model (latency, throughput, peak RSS)");
  auto args = std::make_shared<BenchArgs>();
  cmd->add_option("model", args->model, "ONNX model or engine file (.kiln)")->required()->check(CLI::ExistingFile);
  add_feed_options(*cmd, args->inputs, args->free_dim);
  cmd->add_option("-t,--threads", args->threads, "threads to run with (0: one per core)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cpu-level", args->cpu_level,
                  "kernel instruction set (default: KILN_CPU_LEVEL, else the best this CPU has)")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}));
  cmd->add_option("--spin-us", args->spin_wait_us,
                  "microseconds idle threads poll for work before sleeping (SessionOptions::spin_wait_us; default 0)")
      ->check(CLI::Range(0, 1'000'000));
  cmd->add_option("--warmup", args->warmup, "untimed runs before timing")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
  auto* iterations = cmd->add_option("-n,--iterations", args->iterations,
                                     "timed runs (with --load-only: session creations, default 5)")
                         ->check(CLI::Range(1, 1'000'000'000));
  auto* duration = cmd->add_option("-d,--duration", args->duration,
                                   "run for this many seconds, at least once (default when no --iterations)")
                       ->capture_default_str()
                       ->check(CLI::Range(0.001, 1e6))
                       ->excludes(iterations);
  auto* load_only = cmd->add_flag("--load-only", args->load_only, "only time session creation (the median of several)")
                        ->excludes(duration);
  cmd->add_flag("--json", args->json,
                "print one JSON line: model, threads, median_ms, p90_ms, min_ms, runs, load_ms, peak_rss_mb, ...");
  add_optimizer_flags(*cmd, args->optimizer);
  add_profile_flag(*cmd, args->profile)->excludes(load_only);
  cmd->callback([args] { bench_model(*args); });
}

}  // namespace kiln::cli
