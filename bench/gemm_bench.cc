// Google Benchmark micro-benchmarks of the packed SGEMM: a square 1024^3 problem and the GEMM
// shapes that ResNet-50, MobileNetV2 and BERT-base spend their time in, at every CPU level this
// machine runs, with B (weights) packed ahead as sessions do. Each reports GFLOP/s; compare with
// build/bench/fma_peak's figure for the fraction of peak.
//
//   build/bench/gemm_bench --benchmark_filter=1024
#include <benchmark/benchmark.h>

#include "random_values.h"

#include <string>
#include <vector>

#include "kernels/cpu/sgemm.h"

namespace {

using kiln::CpuLevel;
using namespace kiln::kernels;

struct Shape {
  const char* name;
  int64_t M, N, K;
};

// M x N x K as Kiln runs them: convolutions as W [Cout, Cin*k*k] x im2col [Cin*k*k, H*W] (the
// pre-packed operand is A), MatMul/Gemm as activations x weights (pre-packed B).
const Shape kShapes[] = {
    {"square_1024", 1024, 1024, 1024},
    {"resnet50_conv2_3x3", 64, 3136, 576},
    {"resnet50_conv3_1x1", 512, 784, 128},
    {"resnet50_conv4_3x3", 256, 196, 2304},
    {"resnet50_conv5_1x1", 2048, 49, 512},
    {"mobilenetv2_expand_1x1", 96, 12544, 16},
    {"mobilenetv2_project_1x1", 24, 3136, 144},
    {"bert_qkv", 128, 768, 768},
    {"bert_ffn_up", 128, 3072, 768},
    {"bert_ffn_down", 128, 768, 3072},
    {"gemv_1x4096x4096", 1, 4096, 4096},
};

void run_sgemm(benchmark::State& state, Shape shape, CpuLevel level, int threads) {
  const auto a = random_values(shape.M * shape.K), b = random_values(shape.K * shape.N);
  std::vector<float> c(static_cast<size_t>(shape.M * shape.N));
  kiln::ThreadPool pool(threads);
  const PackedMatrix packed_b = PackedMatrix::pack_b(level, shape.K, shape.N, MatrixView{b.data(), shape.N});
  for (auto _ : state) {
    sgemm(level, shape.M, shape.N, shape.K, MatrixView{a.data(), shape.K}, &packed_b, c.data(), shape.N, {}, &pool);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(shape.M * shape.N * shape.K);
  // A rate counter: Google Benchmark prints it per second, so "GFLOP=170/s" reads as 170 GFLOP/s.
  state.counters["GFLOP"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  for (CpuLevel level : {CpuLevel::Avx512, CpuLevel::Avx2, CpuLevel::Scalar}) {
    if (level > kiln::detected_cpu_level()) continue;
    for (const Shape& shape : kShapes)
      for (int threads : {1, 2}) {
        const std::string name =
            std::string("sgemm/") + kiln::cpu_level_name(level) + "/" + shape.name + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), run_sgemm, shape, level, threads)->Unit(benchmark::kMillisecond)->UseRealTime();
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
