#include "llm/load_options.h"

#include "core/cpu_features.h"
#include "kiln/error.h"
#include "llm/llama_loader.h"
#include "llm/llm_engine.h"

namespace kiln::llm {

nn::PrepareOptions prepare_options(const LoadOptions& options, const std::string& model_path) {
  if (options.group < 0)
    throw Error(ErrorCode::InvalidArgument, "group must not be negative, got " + std::to_string(options.group));
  const nn::WeightQuant::Kind kind = nn::parse_weight_quant(options.quant, "quant");
  const bool engine = is_llm_engine(model_path);
  nn::PrepareOptions prepared = engine ? llm_engine_options(model_path) : nn::PrepareOptions{.level = default_cpu_level()};
  if (!options.cpu_level.empty()) prepared.level = requested_cpu_level(options.cpu_level, "cpu_level");
  if (kind != nn::WeightQuant::Float || !engine) prepared.quant = {.kind = kind, .group = options.group};
  return prepared;
}

kernels::KvDtype kv_dtype(const LoadOptions& options) { return kernels::kv_dtype_from_name(options.kv_cache); }

std::unique_ptr<LlamaForCausalLM> load_model(const std::string& path, const LoadOptions& options,
                                             const LoadProgress& progress) {
  return load_llama(path, prepare_options(options, path), progress);
}

}  // namespace kiln::llm
