#include "core/cpu_features.h"

#include <cpuid.h>

#include <cstdlib>
#include <string>

#include "kiln/error.h"

namespace kiln {
namespace {

// The OS must save the YMM (and for AVX-512 the opmask and ZMM) state on context switches; XCR0
// says whether it does.
unsigned long long read_xcr0() {
  unsigned eax = 0, edx = 0;
  __asm__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = ecx & bit_OSXSAVE;
  const bool fma = ecx & bit_FMA;
  if (!osxsave) return f;
  const unsigned long long xcr0 = read_xcr0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  f.avx2 = ymm_saved && (ebx & bit_AVX2);
  f.fma = ymm_saved && fma;
  f.avx512f = zmm_saved && (ebx & bit_AVX512F);
  f.avx512bw = f.avx512f && (ebx & bit_AVX512BW);
  f.avx512vl = f.avx512f && (ebx & bit_AVX512VL);
  f.avx512dq = f.avx512f && (ebx & bit_AVX512DQ);
  f.avx512vnni = f.avx512f && (ecx & bit_AVX512VNNI);
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) f.avx512bf16 = f.avx512f && (eax & bit_AVX512BF16);
  return f;
}

struct NamedFeature {
  const char* name;
  bool CpuFeatures::*present;
  CpuLevel needed_from;
};
constexpr NamedFeature kFeatures[] = {
    {"AVX2", &CpuFeatures::avx2, CpuLevel::Avx2},
    {"FMA", &CpuFeatures::fma, CpuLevel::Avx2},
    {"AVX512F", &CpuFeatures::avx512f, CpuLevel::Avx512},
    {"AVX512BW", &CpuFeatures::avx512bw, CpuLevel::Avx512},
    {"AVX512VL", &CpuFeatures::avx512vl, CpuLevel::Avx512},
    {"AVX512DQ", &CpuFeatures::avx512dq, CpuLevel::Avx512},
    {"AVX512-VNNI", &CpuFeatures::avx512vnni, CpuLevel::Avx512},
    {"AVX512-BF16", &CpuFeatures::avx512bf16, CpuLevel::Avx512},
};

std::string missing_features(CpuLevel level) {
  std::string missing;
  for (const std::string& name : cpu_level_features(level))
    if (!cpu_has_feature(name)) missing += (missing.empty() ? "" : ", ") + name;
  return missing;
}

}  // namespace

std::vector<std::string> cpu_level_features(CpuLevel level) {
  std::vector<std::string> names;
  for (const NamedFeature& f : kFeatures)
    if (level >= f.needed_from) names.emplace_back(f.name);
  return names;
}

bool cpu_has_feature(std::string_view name) {
  for (const NamedFeature& f : kFeatures)
    if (name == f.name) return cpu_features().*f.present;
  return false;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

CpuLevel detected_cpu_level() {
  if (missing_features(CpuLevel::Avx512).empty()) return CpuLevel::Avx512;
  if (missing_features(CpuLevel::Avx2).empty()) return CpuLevel::Avx2;
  return CpuLevel::Scalar;
}

void check_cpu_level_supported(CpuLevel level) {
  const std::string missing = missing_features(level);
  if (!missing.empty())
    throw Error(ErrorCode::InvalidArgument,
                std::string("CPU level '") + cpu_level_name(level) + "' needs " + missing + ", which this CPU lacks");
}

CpuLevel requested_cpu_level(std::string_view requested, std::string_view what) {
  if (requested.empty()) return default_cpu_level();
  const CpuLevel level = parse_cpu_level(requested, what);
  check_cpu_level_supported(level);
  return level;
}

CpuLevel default_cpu_level() {
  const char* forced = std::getenv("KILN_CPU_LEVEL");
  if (!forced || !*forced) return detected_cpu_level();
  const CpuLevel level = parse_cpu_level(forced, "KILN_CPU_LEVEL");
  check_cpu_level_supported(level);
  return level;
}

const char* cpu_level_name(CpuLevel level) {
  switch (level) {
    case CpuLevel::Scalar: return "scalar";
    case CpuLevel::Avx2: return "avx2";
    case CpuLevel::Avx512: return "avx512";
  }
  return "unknown";
}

CpuLevel parse_cpu_level(std::string_view text, std::string_view what) {
  for (CpuLevel level : {CpuLevel::Scalar, CpuLevel::Avx2, CpuLevel::Avx512})
    if (text == cpu_level_name(level)) return level;
  throw Error(ErrorCode::InvalidArgument,
              std::string(what) + ": unknown CPU level '" + std::string(text) + "'; expected scalar, avx2 or avx512");
}

}  // namespace kiln
