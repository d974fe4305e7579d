// Google Benchmark micro-benchmarks of the int8 GEMM (kernels/cpu/qgemm.h) on the shapes that
// quantized ResNet-50 and BERT-base spend their time in, at every CPU level this machine runs,
// with B (weights) packed ahead as sessions do and outputs requantized to uint8 (QLinearConv's
// epilogue). Each reports GOPS (2 operations per multiply-add); vnni_peak reports the same for
// independent vpdpbusd chains alone (64 multiply-adds each), the ceiling to compare with.
//
//   build/bench/qgemm_bench --benchmark_filter='vnni_peak|avx512'
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/qgemm.h"

namespace {

using kiln::CpuLevel;
using namespace kiln::kernels;

struct Shape {
  const char* name;
  int64_t M, N, K;
};

// M x N x K as activations x weights: convolutions over NHWC rows (M = output positions, K =
// kh * kw * input channels, N = output channels), MatMuls over tokens.
const Shape kShapes[] = {
    {"resnet50_conv2_3x3", 3136, 64, 576},
    {"resnet50_conv3_1x1", 784, 512, 128},
    {"resnet50_conv4_3x3", 196, 256, 2304},
    {"mobilenetv2_project_1x1", 3136, 24, 144},
    {"bert_qkv", 128, 768, 768},
    {"bert_ffn_down", 128, 768, 3072},
    {"gemv_1x4096x4096", 1, 4096, 4096},
};

std::vector<uint8_t> random_bytes(int64_t n) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> dist(0, 255);
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<uint8_t>(dist(rng));
  return v;
}

void run_qgemm(benchmark::State& state, Shape shape, CpuLevel level, int threads) {
  const auto a = random_bytes(shape.M * shape.K), b = random_bytes(shape.K * shape.N);
  const PackedQuantWeights packed =
      PackedQuantWeights::pack(shape.K, shape.N, QuantWeightsView{b.data(), true, shape.N});
  const std::vector<int32_t> bias(static_cast<size_t>(shape.N), 1000);
  const std::vector<float> multipliers(static_cast<size_t>(shape.N), 1e-4f);
  std::vector<uint8_t> c(static_cast<size_t>(shape.M * shape.N));
  const QGemmEpilogue epilogue{c.data(), shape.N, {bias.data(), multipliers.data(), 1, 128}};
  kiln::ThreadPool pool(threads);
  for (auto _ : state) {
    qgemm(level, shape.M, a.data(), shape.K, 128, packed, epilogue, &pool);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double ops = 2.0 * static_cast<double>(shape.M * shape.N * shape.K);
  // A rate counter: Google Benchmark prints it per second, so "GOP=300/s" reads as 300 GOPS.
  state.counters["GOP"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// vpdpbusd into 16 independent accumulators (2 per cycle x 5 cycles of latency, with room to
// spare), written in asm: with intrinsics GCC copies the accumulators between registers at every
// step, and those copies compete for the same ports. The operands' values do not matter.
#define KILN_DPBUSD(n) "vpdpbusd %%zmm30, %%zmm31, %%zmm" #n "\n\t"
void vnni_peak(benchmark::State& state) {
  constexpr int64_t kSteps = 1 << 16, kChains = 16;
  for (auto _ : state)
    for (int64_t s = 0; s < kSteps; ++s)
      asm volatile(KILN_DPBUSD(0) KILN_DPBUSD(1) KILN_DPBUSD(2) KILN_DPBUSD(3) KILN_DPBUSD(4) KILN_DPBUSD(5)
                   KILN_DPBUSD(6) KILN_DPBUSD(7) KILN_DPBUSD(8) KILN_DPBUSD(9) KILN_DPBUSD(10) KILN_DPBUSD(11)
                   KILN_DPBUSD(12) KILN_DPBUSD(13) KILN_DPBUSD(14) KILN_DPBUSD(15)
                   ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                       "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  const double ops = 2.0 * 64 * kChains * kSteps;
  state.counters["GOP"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
#undef KILN_DPBUSD

void register_all() {
  if (kiln::detected_cpu_level() >= CpuLevel::Avx512)
    benchmark::RegisterBenchmark("vnni_peak/threads:1", vnni_peak)->Unit(benchmark::kMillisecond);
  for (CpuLevel level : {CpuLevel::Avx512, CpuLevel::Avx2, CpuLevel::Scalar}) {
    if (level > kiln::detected_cpu_level()) continue;
    for (const Shape& shape : kShapes)
      for (int threads : {1, 2}) {
        const std::string name = std::string("qgemm/") + kiln::cpu_level_name(level) + "/" + shape.name +
                                 "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), run_qgemm, shape, level, threads)
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
