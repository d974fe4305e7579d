// Google Benchmark micro-benchmarks of the convolutions that ResNet-50 and MobileNetV2 spend their
// time in, each run two ways on the same data: the NCHWc direct convolution (what level 3 runs)
// and the NCHW prepared convolution (im2col/pointwise GEMM or the depthwise plane kernel, what
// levels 0-2 run), at every CPU level this machine runs. Each reports GFLOP/s; compare with
// build/bench/fma_peak's figure for the fraction of peak.
//
//   build/bench/conv_bench --benchmark_filter=avx512
#include <benchmark/benchmark.h>

#include "random_values.h"

#include <string>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/nchwc.h"
#include "kernels/cpu/nchwc_conv.h"

namespace {

using kiln::CpuLevel;
using namespace kiln::kernels;

struct ConvCase {
  const char* name;
  int64_t channels, out_channels, size, kernel, stride;
  bool depthwise = false;
};

// Square planes, pad kernel / 2. Inputs of fewer channels than a block stay NCHW, as the layout
// pass leaves a network's RGB input.
const ConvCase kCases[] = {
    {"resnet50_stem_7x7_stride2", 3, 64, 224, 7, 2},
    {"resnet50_stage2_3x3", 64, 64, 56, 3, 1},
    {"resnet50_stage2_1x1_expand", 64, 256, 56, 1, 1},
    {"resnet50_stage3_3x3_stride2", 128, 128, 56, 3, 2},
    {"resnet50_stage3_1x1_reduce", 512, 128, 28, 1, 1},
    {"resnet50_stage4_3x3", 256, 256, 14, 3, 1},
    {"resnet50_stage5_3x3", 512, 512, 7, 3, 1},
    {"resnet50_stage5_1x1_expand", 512, 2048, 7, 1, 1},
    {"mobilenetv2_expand_1x1", 24, 144, 56, 1, 1},
    {"mobilenetv2_project_1x1", 144, 24, 56, 1, 1},
    {"mobilenetv2_depthwise_3x3", 144, 144, 56, 3, 1, true},
    {"mobilenetv2_depthwise_3x3_7x7", 960, 960, 7, 3, 1, true},
};

int64_t out_size(const ConvCase& c) { return (c.size + 2 * (c.kernel / 2) - c.kernel) / c.stride + 1; }

double flops_of(const ConvCase& c) {
  const double per_output = 2.0 * static_cast<double>(c.kernel * c.kernel * (c.depthwise ? 1 : c.channels));
  return per_output * static_cast<double>(c.out_channels * out_size(c) * out_size(c));
}

template <class Run>
void time_conv(benchmark::State& state, const ConvCase& c, Run&& run) {
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  // A rate counter: Google Benchmark prints it per second, so "GFLOP=170/s" reads as 170 GFLOP/s.
  state.counters["GFLOP"] = benchmark::Counter(flops_of(c) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void run_nchwc(benchmark::State& state, ConvCase c, CpuLevel level, int threads) {
  const int64_t block = nchwc_block(level), out = out_size(c), pad = c.kernel / 2;
  const bool nchw_input = c.channels < block;
  const auto w = random_values(c.out_channels * (c.depthwise ? 1 : c.channels) * c.kernel * c.kernel);
  const auto x = random_values((nchw_input ? c.channels : nchwc_blocks(c.channels, block) * block) * c.size * c.size);
  std::vector<float> y(static_cast<size_t>(nchwc_blocks(c.out_channels, block) * block * out * out));
  kiln::ThreadPool pool(threads);
  const PreparedNchwcConv conv(level, w.data(), c.out_channels, c.channels, c.kernel, c.kernel, c.depthwise, nchw_input);
  const NchwcConvGeometry g{1, c.size, c.size, out, out, c.kernel, c.kernel, c.stride, c.stride, 1, 1, pad, pad};
  time_conv(state, c, [&] { conv.run(x.data(), g, y.data(), {}, pool); });
}

void run_nchw(benchmark::State& state, ConvCase c, CpuLevel level, int threads) {
  const int64_t out = out_size(c), pad = c.kernel / 2, groups = c.depthwise ? c.channels : 1;
  const auto w = random_values(c.out_channels * (c.channels / groups) * c.kernel * c.kernel);
  const auto x = random_values(c.channels * c.size * c.size);
  std::vector<float> y(static_cast<size_t>(c.out_channels * out * out));
  kiln::ThreadPool pool(threads);
  const PreparedConv2d conv(level, w.data(), c.out_channels, c.channels / groups, c.kernel, c.kernel, groups);
  ConvShape shape;
  shape.in_channels = c.channels;
  shape.out_channels = c.out_channels;
  shape.groups = groups;
  shape.geometry = make_window_geometry({c.size, c.size}, {.kernel = {c.kernel, c.kernel},
                                                           .strides = {c.stride, c.stride},
                                                           .pads = {pad, pad, pad, pad}});
  time_conv(state, c, [&] { conv.run(x.data(), shape, y.data(), {}, pool); });
}

void register_all() {
  for (CpuLevel level : {CpuLevel::Avx512, CpuLevel::Avx2, CpuLevel::Scalar}) {
    if (level > kiln::detected_cpu_level()) continue;
    for (const ConvCase& c : kCases)
      for (int threads : {1, 2})
        for (const bool nchwc : {true, false}) {
          const std::string name = std::string(nchwc ? "nchwc/" : "nchw/") + kiln::cpu_level_name(level) + "/" + c.name +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), nchwc ? run_nchwc : run_nchw, c, level, threads)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
