#include "llm/gguf_format.h"

#include <bit>

namespace kiln::llm {
namespace {

constexpr GgmlLayout kReadable[] = {
    {GgmlType::F32, "F32", 1, 4},    {GgmlType::F16, "F16", 1, 2},    {GgmlType::Q4_0, "Q4_0", 32, 18},
    {GgmlType::Q8_0, "Q8_0", 32, 34}, {GgmlType::BF16, "BF16", 1, 2},
};

// ggml's type numbering. 4 and 5 were never written to GGUF files; 31 to 33 and 36 to 38 are
// repacked layouts that some GGUF files carried before ggml moved repacking to load time.
constexpr const char* kGgmlTypeNames[] = {
    "F32",      "F16",      "Q4_0",  "Q4_1",       "",           "",           "Q5_0",    "Q5_1",    "Q8_0",
    "Q8_1",     "Q2_K",     "Q3_K",  "Q4_K",       "Q5_K",       "Q6_K",       "Q8_K",    "IQ2_XXS", "IQ2_XS",
    "IQ3_XXS",  "IQ1_S",    "IQ4_NL", "IQ3_S",     "IQ2_S",      "IQ4_XS",     "I8",      "I16",     "I32",
    "I64",      "F64",      "IQ1_M", "BF16",       "Q4_0_4_4",   "Q4_0_4_8",   "Q4_0_8_8", "TQ1_0",  "TQ2_0",
    "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4", "NVFP4", "Q1_0",
};

}  // namespace

size_t gguf_scalar_bytes(GgufType type) {
  switch (type) {
    case GgufType::UInt8: case GgufType::Int8: case GgufType::Bool: return 1;
    case GgufType::UInt16: case GgufType::Int16: return 2;
    case GgufType::UInt32: case GgufType::Int32: case GgufType::Float32: return 4;
    case GgufType::UInt64: case GgufType::Int64: case GgufType::Float64: return 8;
    case GgufType::String: case GgufType::Array: return 0;
  }
  return 0;
}

const GgmlLayout* ggml_layout(uint32_t id) {
  for (const GgmlLayout& layout : kReadable)
    if (static_cast<uint32_t>(layout.type) == id) return &layout;
  return nullptr;
}

const char* ggml_any_type_name(uint32_t id) {
  if (id >= std::size(kGgmlTypeNames) || *kGgmlTypeNames[id] == '\0') return nullptr;
  return kGgmlTypeNames[id];
}

const char* ggml_type_name(GgmlType type) { return ggml_any_type_name(static_cast<uint32_t>(type)); }

uint64_t gguf_alignment(const GgufMetadata& metadata, ErrorCode code) {
  const GgufValue* v = metadata.find("general.alignment");
  if (!v) return GgufFile::kDefaultAlignment;
  if (v->type != GgufType::UInt32)
    throw Error(code, metadata.source() + ": general.alignment must be a UInt32");
  if (!std::has_single_bit(v->uints[0]))
    throw Error(code, metadata.source() + ": general.alignment " + std::to_string(v->uints[0]) +
                          " is not a power of two");
  return v->uints[0];
}

}  // namespace kiln::llm
