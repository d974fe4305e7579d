// Llama models loaded from GGUF files compute what the same weights compute when loaded from a
// Hugging Face checkpoint: F32 and F16 files as float, Q8_0 and Q4_0 files through the int8 and
// int4 kernels in groups of 32 with the very values the file stores, so the logits are identical.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "kernels/cpu/weight_gemv.h"
#include "llm/gguf_llama.h"
#include "llm/llama_loader.h"
#include "map_state_source.h"
#include "tiny_llama.h"

namespace kiln::llm {
namespace {

using kiln::testing::float_values;
using kiln::testing::map_source;
using namespace testing;

struct Case {
  GgmlType type;
  nn::WeightQuant expected_quant;
};

class GgufModel : public ::testing::TestWithParam<Case> {};

TEST_P(GgufModel, ComputesWhatTheSameWeightsComputeFromAHuggingFaceCheckpoint) {
  const LlamaConfig config = tiny_config();
  const TinyWeights weights = tiny_weights(config, GetParam().type);
  const std::string path = (std::filesystem::temp_directory_path() /
                            (std::string("kiln_gguf_model_") + ggml_type_name(GetParam().type) + ".gguf"))
                               .string();
  save_gguf(path, metadata_of(config), weights.gguf);
  const GgufFile file = GgufFile::open(path);
  EXPECT_EQ(gguf_stored_quant(file).kind, GetParam().expected_quant.kind);
  EXPECT_EQ(gguf_stored_quant(file).group, GetParam().expected_quant.group);
  const nn::PrepareOptions options{.level = default_cpu_level()};
  const auto from_gguf = load_llama(path, options);
  std::filesystem::remove(path);

  // The reference: the values the file holds (rounded to f16, or quantized), as float32 in Hugging
  // Face's layout, quantized again at load with the stored format's rounding. Requantizing Q8_0 and
  // Q4_0 blocks reproduces them exactly, so both models compute with the same weights.
  std::map<std::string, Tensor> stored;
  for (const GgufLlamaTensor& t : llama_tensors(file, config)) stored.emplace(t.hf_name, llama_tensor_float32(file, t));
  for (const char* name : {"model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.up_proj.weight"})
    EXPECT_EQ(GetParam().type == GgmlType::F32, float_values(stored.at(name)) == float_values(weights.hf.at(name)))
        << name << ": exact only when stored as F32, with the Q/K rows back in order";
  // Q8_0 and Q4_0 tensors' codes as stored, Q/K rows included, are the file's values; the GGUF
  // model computes with them, the Hugging Face one quantizes the values again.
  for (const GgufLlamaTensor& t : llama_tensors(file, config)) {
    const std::optional<nn::StoredCodes> codes = llama_tensor_codes(file, t);
    const bool blocks = t.info->shape.size() == 2 && t.info->type != GgmlType::F32 &&
                        (GetParam().type == GgmlType::Q8_0 || GetParam().type == GgmlType::Q4_0);
    ASSERT_EQ(codes.has_value(), blocks) << t.hf_name;
    if (!codes) continue;
    std::vector<float> values(static_cast<size_t>(codes->rows * codes->cols));
    kernels::dequantize_rows_ref(codes->view(), 0, codes->rows, values.data(), codes->cols);
    EXPECT_EQ(values, float_values(stored.at(t.hf_name))) << t.hf_name;
  }
  LlamaForCausalLM from_hf(config);
  from_hf.prepare({.level = options.level, .quant = GetParam().expected_quant});
  from_hf.load_state_dict(map_source(stored));
  // The file's dense weights keep their dtype; Q/K rows are back in Hugging Face's order.
  EXPECT_EQ(from_gguf->parameter("model.layers.0.self_attn.q_proj.weight").dtype(),
            GetParam().type == GgmlType::F16 ? DType::Float16 : DType::Float32);
  EXPECT_EQ(prompt_logits(*from_gguf), prompt_logits(from_hf));
}

INSTANTIATE_TEST_SUITE_P(Types, GgufModel,
                         ::testing::Values(Case{GgmlType::F32, {}}, Case{GgmlType::F16, {}},
                                           Case{GgmlType::Q8_0, {nn::WeightQuant::Int8, 32}},
                                           Case{GgmlType::Q4_0, {nn::WeightQuant::Int4, 32}}),
                         [](const auto& param_info) { return std::string(ggml_type_name(param_info.param.type)); });

TEST(GgufModel, AnExplicitQuantizationOverridesTheStoredOne) {
  const LlamaConfig config = tiny_config();
  const std::string path = (std::filesystem::temp_directory_path() / "kiln_gguf_model_override.gguf").string();
  save_gguf(path, metadata_of(config), tiny_weights(config, GgmlType::F32).gguf);
  const auto model = load_llama(path, {.level = CpuLevel::Scalar, .quant = {nn::WeightQuant::Int4, 32}});
  std::filesystem::remove(path);
  EXPECT_EQ(model->prepared_for().quant.kind, nn::WeightQuant::Int4);
}

}  // namespace
}  // namespace kiln::llm
