#include "llm/llm_engine.h"

#include <algorithm>
#include <filesystem>

#include "core/hash.h"
#include "core/mapped_file.h"
#include "engine/engine_file.h"
#include "engine/engine_format.h"
#include "engine/engine_writer.h"
#include "llm/llama_loader.h"

namespace kiln::llm {
namespace {

namespace fs = std::filesystem;

// What the runtime reads beside a model directory's weights.
constexpr const char* kSideFiles[] = {"config.json",           "generation_config.json", "tokenizer.json",
                                      "tokenizer.model",       "tokenizer_config.json",  "chat_template.jinja"};

// XXH64 over a directory's regular files in name order (each one's name, size and XXH64), or over
// a file's bytes: what says which model an engine was built from.
std::pair<uint64_t, uint64_t> source_identity(const std::string& source) {
  if (!fs::is_directory(source)) {
    const auto file = MappedFile::open(source);
    return {xxh64(file->data(), file->size()), file->size()};
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(source))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string listing;
  uint64_t bytes = 0;
  for (const fs::path& path : files) {
    const auto file = MappedFile::open(path.string());
    listing += path.filename().string() + '\0' + std::to_string(file->size()) + '\0' +
               std::to_string(xxh64(file->data(), file->size())) + '\n';
    bytes += file->size();
  }
  return {xxh64(listing.data(), listing.size()), bytes};
}

// A GGUF's config depends on its tensors too (tied embeddings): it is kept as the config.json it
// amounts to, beside the metadata the tokenizer and chat template come from.
std::vector<std::pair<std::string, std::string>> side_files(const std::string& source, const LlamaConfig& config) {
  std::vector<std::pair<std::string, std::string>> files;
  if (!fs::is_directory(source)) {
    files.emplace_back("config.json", llama_config_json(config));
    files.emplace_back(kGgufMetadataFile, gguf_metadata_file(GgufFile::open(source).metadata()));
    return files;
  }
  const ModelFiles model = ModelFiles::directory(source);
  for (const char* name : kSideFiles)
    if (std::optional<std::string> text = model.read(name)) files.emplace_back(name, std::move(*text));
  return files;
}

std::shared_ptr<const engine::EngineFile> open_llm_engine(const std::string& path) {
  auto file = engine::EngineFile::open(path);
  if (file->has_model())
    throw Error(ErrorCode::InvalidArgument, path + " is an engine of an ONNX model; the LLM runtime loads engines built "
                                                   "from an LLM (`kiln build MODEL_DIR|MODEL.gguf -o MODEL.kiln`)");
  return file;
}

ModelFiles files_of(const engine::EngineFile& file) {
  std::map<std::string, std::string> held;
  for (const auto& [name, bytes] : file.files()) held.emplace(name, std::string(bytes));
  return ModelFiles::held(file.name(), std::move(held));
}

nn::PrepareOptions options_of(const engine::EngineFile& file) {
  const engine::BuildInfo& b = file.build();
  return {.level = b.cpu_level,
          .quant = {nn::parse_weight_quant(b.weight_quant, "the engine's weight format"), b.weight_group}};
}

std::string describe(const nn::PrepareOptions& o) {
  switch (o.quant.kind) {
    case nn::WeightQuant::Float: break;
    case nn::WeightQuant::Int8:
      return std::string(cpu_level_name(o.level)) + ", weights int8 " +
             (o.quant.group ? "in groups of " + std::to_string(o.quant.group) : "per output channel");
    case nn::WeightQuant::Int4:
      return std::string(cpu_level_name(o.level)) + ", weights int4 in groups of " +
             std::to_string(o.quant.group ? o.quant.group : 32);
  }
  return std::string(cpu_level_name(o.level)) + ", weights as stored";
}

}  // namespace

void build_llm_engine(const std::string& source, const std::string& engine_path, const nn::PrepareOptions& options,
                      const nn::Progress& progress) {
  engine::RecordingWeightStore recorder;
  const std::unique_ptr<LlamaForCausalLM> model = load_llama(source, options, progress, &recorder);
  const nn::PrepareOptions& built = model->prepared_for();
  const auto [hash, bytes] = source_identity(source);
  engine::EngineContents contents;
  contents.build = engine::describe_build(built.level, source, hash, bytes);
  contents.build.weight_quant = nn::weight_quant_name(built.quant.kind);
  contents.build.weight_group = built.quant.group;
  contents.prepared = recorder.recorded();
  contents.files = side_files(source, model->config());
  for (const auto& [name, d] : model->describe_parameters())
    contents.tensors.emplace_back(name, Tensor::wrap(d.dtype, d.shape, nullptr, nullptr));
  engine::write_engine(engine_path, contents);
}

bool is_llm_engine(const std::string& path) {
  return fs::is_regular_file(path) && engine::is_engine_file(path) && !engine::EngineFile::open(path)->has_model();
}

nn::PrepareOptions llm_engine_options(const std::string& path) { return options_of(*open_llm_engine(path)); }

ModelFiles llm_engine_files(const std::string& path) { return files_of(*open_llm_engine(path)); }

std::unique_ptr<LlamaForCausalLM> load_llm_engine(const std::string& path, const nn::PrepareOptions& options,
                                                  const nn::Progress& progress) {
  const auto file = open_llm_engine(path);
  const nn::PrepareOptions built = options_of(*file);
  const bool same_quant = options.quant.kind == nn::WeightQuant::Float ||
                          (options.quant.kind == built.quant.kind &&
                           (options.quant.group == 0 || options.quant.group == built.quant.group));
  if (options.level != built.level || !same_quant)
    throw Error(ErrorCode::InvalidArgument, path + " was built for " + describe(built) + ", not " + describe(options) +
                                                "; load it as built, or rebuild it with `kiln build`");
  auto model = std::make_unique<LlamaForCausalLM>(llama_config_of(files_of(*file)));
  model->prepare(built);
  const auto tensors = std::make_shared<std::map<std::string, nn::TensorDescription>>();
  for (const auto& [name, t] : file->tensors()) tensors->emplace(name, nn::TensorDescription{t.shape(), t.dtype()});
  const std::unique_ptr<engine::EngineWeightStore> weights = file->prepared_weights();
  model->load_state_dict(
      {.name = path,
       .names =
           [tensors] {
             std::vector<std::string> names;
             for (const auto& [name, d] : *tensors) names.push_back(name);
             return names;
           },
       .contains = [tensors](const std::string& n) { return tensors->count(n) > 0; },
       .tensor = [path](const std::string& n) -> Tensor {
         throw Error(ErrorCode::InvalidArgument, path + " holds parameter '" + n +
                                                     "' only in its prepared form; rebuild the engine from the model "
                                                     "to change how it is prepared");
       },
       .describe = [tensors](const std::string& n) { return tensors->at(n); }},
      true, progress, weights.get());
  if (const std::vector<std::string> unused = weights->unused(); !unused.empty())
    throw Error(ErrorCode::InvalidModel, path + " holds prepared weights no module asked for ('" + unused.front() +
                                             "' and " + std::to_string(unused.size() - 1) +
                                             " more): it was built by another Kiln; rebuild it with `kiln build`");
  return model;
}

}  // namespace kiln::llm
