#include "llm/llama_loader.h"

#include <filesystem>

namespace kiln::llm {
namespace {

bool recomputed_buffer(const std::string& name) {
  const std::string suffix = "rotary_emb.inv_freq";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

nn::StateSource checkpoint_state_source(const Checkpoint& checkpoint, const std::string& name) {
  return {.name = name,
          .names =
              [&checkpoint] {
                std::vector<std::string> names;
                for (std::string& n : checkpoint.names())
                  if (!recomputed_buffer(n)) names.push_back(std::move(n));
                return names;
              },
          .contains = [&checkpoint](const std::string& n) { return checkpoint.find(n) != nullptr; },
          .tensor = [&checkpoint](const std::string& n) { return checkpoint.tensor(n); }};
}

std::unique_ptr<LlamaForCausalLM> load_llama(const std::string& directory, const nn::PrepareOptions& options,
                                             const nn::Progress& progress) {
  const LlamaConfig config = load_llama_config((std::filesystem::path(directory) / "config.json").string());
  auto model = std::make_unique<LlamaForCausalLM>(config);
  model->prepare(options);
  const Checkpoint checkpoint = Checkpoint::open(directory);
  model->load_state_dict(checkpoint_state_source(checkpoint, directory), true, progress);
  return model;
}

}  // namespace kiln::llm
