// Run-time CPU dispatch. The CPU's features are read once from CPUID; kernels pick their fast
// paths from a CpuLevel, which a session takes from its options, else from the KILN_CPU_LEVEL
// environment variable, else from what the CPU supports. A level above what the CPU supports is
// an error, never a crash at the first unsupported instruction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct CpuFeatures {
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false;
};

// Ordered: each level assumes everything below it.
enum class CpuLevel {
  Scalar,  // portable C++ (the compiler's baseline x86-64 SSE2 at most)
  Avx2,    // AVX2 + FMA
  Avx512,  // AVX-512 F/BW/VL/DQ + VNNI + BF16 (Zen 4, Sapphire Rapids)
};

const CpuFeatures& cpu_features();
// The features a level's kernels use, by name ("AVX2", "FMA", "AVX512-VNNI", ...).
std::vector<std::string> cpu_level_features(CpuLevel level);
// Whether this CPU has the named feature; false for a name Kiln does not know.
bool cpu_has_feature(std::string_view name);
// The highest level this CPU supports.
CpuLevel detected_cpu_level();
// The level sessions use when their options name none: KILN_CPU_LEVEL if set (scalar, avx2,
// avx512), else the detected level. Throws InvalidArgument on an unknown or unsupported value.
CpuLevel default_cpu_level();
// Throws InvalidArgument naming the level and the missing features when the CPU lacks them.
void check_cpu_level_supported(CpuLevel level);
// The level named by `requested` ("scalar", "avx2", "avx512"; `what` names it in errors), checked
// against this CPU, or default_cpu_level() when `requested` is empty.
CpuLevel requested_cpu_level(std::string_view requested, std::string_view what);

const char* cpu_level_name(CpuLevel level);
// Parses "scalar", "avx2" or "avx512"; throws InvalidArgument naming `what` otherwise.
CpuLevel parse_cpu_level(std::string_view text, std::string_view what);

}  // namespace kiln
