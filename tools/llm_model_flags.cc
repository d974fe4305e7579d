#include "llm_model_flags.h"

#include <filesystem>

#include "core/cpu_features.h"
#include "kiln/error.h"
#include "llm/llama_loader.h"
#include "llm/llm_engine.h"
#include "progress_bar.h"

namespace kiln::cli {

llm::nn::PrepareOptions LlmWeightFlags::prepare_options(const std::string& model) const {
  // An engine was prepared for one level and format: those are the defaults for it, and a flag
  // asking for others is refused when it loads.
  llm::nn::PrepareOptions options =
      llm::is_llm_engine(model) ? llm::llm_engine_options(model) : llm::nn::PrepareOptions{.level = default_cpu_level()};
  if (!cpu_level.empty()) options.level = requested_cpu_level(cpu_level, "--cpu-level");
  const auto kind = llm::nn::parse_weight_quant(quant, "--quant");
  if (kind != llm::nn::WeightQuant::Float || !llm::is_llm_engine(model)) options.quant = {.kind = kind, .group = group};
  return options;
}

void add_llm_weight_flags(CLI::App& cmd, LlmWeightFlags& flags) {
  cmd.add_option("--cpu-level", flags.cpu_level,
                 "kernel instruction set (default: an engine's own, else the best this CPU has)")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}));
  cmd.add_option("--quant", flags.quant,
                 "weights as stored (none; a GGUF's Q8_0/Q4_0 and an engine's stay so), or quantized at load: int8, int4")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "int8", "int4"}));
  cmd.add_option("--group", flags.group,
                 "inputs per scale, a multiple of 32; 0: int8 per output channel, int4 in groups of 32")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
}

std::string resolve_model_dir(const std::string& model) {
  if (!model.empty()) return model;
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", error).parent_path();
  const fs::path candidates[] = {exe_dir / ".." / "models" / "kjv", exe_dir / "models" / "kjv"};
  for (const fs::path& dir : candidates)
    if (fs::exists(dir / "config.json", error)) return fs::weakly_canonical(dir, error).string();
  throw Error(ErrorCode::Io, "no model directory given, and the shipped model is in neither " +
                                 candidates[0].lexically_normal().string() + " nor " +
                                 candidates[1].lexically_normal().string());
}

std::unique_ptr<llm::LlamaForCausalLM> load_llm(const std::string& model_dir, const LlmWeightFlags& flags) {
  return llm::load_llama(model_dir, flags.prepare_options(model_dir), terminal_progress_bar());
}

}  // namespace kiln::cli
