#include "llm/load_options.h"

#include "core/cpu_features.h"
#include "kiln/error.h"
#include "llm/llama_loader.h"

namespace kiln::llm {

nn::PrepareOptions prepare_options(const LoadOptions& options) {
  nn::PrepareOptions prepared{.level = requested_cpu_level(options.cpu_level, "cpu_level")};
  if (options.group < 0)
    throw Error(ErrorCode::InvalidArgument, "group must not be negative, got " + std::to_string(options.group));
  if (options.quant == "int8") {
    prepared.quant = {.kind = nn::WeightQuant::Int8, .group = options.group};
  } else if (options.quant == "int4") {
    prepared.quant = {.kind = nn::WeightQuant::Int4, .group = options.group};
  } else if (options.quant != "none") {
    throw Error(ErrorCode::InvalidArgument, "quant must be none, int8 or int4, got '" + options.quant + "'");
  }
  return prepared;
}

kernels::KvDtype kv_dtype(const LoadOptions& options) { return kernels::kv_dtype_from_name(options.kv_cache); }

std::unique_ptr<LlamaForCausalLM> load_model(const std::string& path, const LoadOptions& options,
                                             const LoadProgress& progress) {
  return load_llama(path, prepare_options(options), progress);
}

}  // namespace kiln::llm
