#include "llm/llama_loader.h"

#include <filesystem>
#include <map>

#include "engine/engine_format.h"
#include "llm/gguf_llama.h"
#include "llm/llm_engine.h"

namespace kiln::llm {
namespace {

bool recomputed_buffer(const std::string& name) {
  const std::string suffix = "rotary_emb.inv_freq";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

nn::StateSource checkpoint_state_source(std::shared_ptr<const Checkpoint> checkpoint, const std::string& name) {
  return {.name = name,
          .names =
              [checkpoint] {
                std::vector<std::string> names;
                for (std::string& n : checkpoint->names())
                  if (!recomputed_buffer(n)) names.push_back(std::move(n));
                return names;
              },
          .contains = [checkpoint](const std::string& n) { return checkpoint->find(n) != nullptr; },
          .tensor = [checkpoint](const std::string& n) { return checkpoint->tensor(n); },
          .describe =
              [checkpoint](const std::string& n) {
                const SafetensorsEntry& e = *checkpoint->find(n);
                return nn::TensorDescription{e.shape, e.dtype};
              }};
}

nn::WeightQuant gguf_stored_quant(const GgufFile& file) {
  // From the most precise down: the first type any layer weight has decides.
  constexpr std::pair<GgmlType, nn::WeightQuant> kByPrecision[] = {
      {GgmlType::F32, {}},
      {GgmlType::F16, {}},
      {GgmlType::BF16, {}},
      {GgmlType::Q8_0, {nn::WeightQuant::Int8, 32}},
      {GgmlType::Q4_0, {nn::WeightQuant::Int4, 32}},
  };
  for (const auto& [type, quant] : kByPrecision)
    for (const GgufTensorInfo& info : file.tensors())
      if (info.name.rfind("blk.", 0) == 0 && info.shape.size() == 2 && info.type == type) return quant;
  return {};
}

namespace {

std::unique_ptr<LlamaForCausalLM> load_llama_gguf(const std::string& path, nn::PrepareOptions options,
                                                  const nn::Progress& progress, WeightStore* weights) {
  // Shared with the model's deferred parameters, which read the file again when asked for.
  const auto file = std::make_shared<const GgufFile>(GgufFile::open(path));
  auto model = std::make_unique<LlamaForCausalLM>(llama_config_from_gguf(*file));
  if (options.quant.kind == nn::WeightQuant::Float) options.quant = gguf_stored_quant(*file);
  model->prepare(options);
  auto tensors = std::make_shared<std::map<std::string, GgufLlamaTensor>>();
  for (GgufLlamaTensor& t : llama_tensors(*file, model->config())) tensors->emplace(t.hf_name, std::move(t));
  model->load_state_dict({.name = path,
                          .names =
                              [tensors] {
                                std::vector<std::string> names;
                                for (const auto& [name, t] : *tensors) names.push_back(name);
                                return names;
                              },
                          .contains = [tensors](const std::string& n) { return tensors->count(n) > 0; },
                          .tensor = [file, tensors](const std::string& n) { return llama_tensor_dense(*file, tensors->at(n)); },
                          .describe =
                              [tensors](const std::string& n) {
                                const GgufTensorInfo& info = *tensors->at(n).info;
                                return nn::TensorDescription{info.shape, gguf_dense_dtype(info.type)};
                              },
                          .codes = [file, tensors](const std::string& n) { return llama_tensor_codes(*file, tensors->at(n)); }},
                         true, progress, weights);
  return model;
}

}  // namespace

LlamaConfig llama_config_of(const ModelFiles& files) {
  if (std::optional<std::string> text = files.read("config.json")) return parse_llama_config(*text, files.path("config.json"));
  if (std::optional<GgufFile> gguf = files.gguf()) return llama_config_from_gguf(*gguf);
  throw Error(ErrorCode::Io, files.path("config.json") + ": no such file");
}

std::unique_ptr<LlamaForCausalLM> load_llama(const std::string& path, const nn::PrepareOptions& options,
                                             const nn::Progress& progress, WeightStore* weights) {
  if (std::filesystem::is_regular_file(path)) {
    if (engine::is_engine_file(path)) return load_llm_engine(path, options, progress);
    return load_llama_gguf(path, options, progress, weights);
  }
  const LlamaConfig config = load_llama_config((std::filesystem::path(path) / "config.json").string());
  auto model = std::make_unique<LlamaForCausalLM>(config);
  model->prepare(options);
  model->load_state_dict(checkpoint_state_source(std::make_shared<const Checkpoint>(Checkpoint::open(path)), path),
                         true, progress, weights);
  return model;
}

}  // namespace kiln::llm
