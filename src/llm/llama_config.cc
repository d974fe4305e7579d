#include "llm/llama_config.h"

#include "core/read_file.h"
#include "kiln/error.h"
#include "llm/json_fields.h"

namespace kiln::llm {
namespace {

using json = nlohmann::json;

Architecture architecture_of(const JsonFields& fields, const std::string& source) {
  const json* list = fields.get("architectures");
  std::string name;
  if (list && list->is_array() && list->size() == 1 && (*list)[0].is_string())
    name = (*list)[0].get<std::string>();
  else if (list)
    fields.fail("architectures", "must be a list of one name");
  if (name.empty()) {  // some exports give only model_type
    const std::string type = fields.string("model_type");
    if (type == "llama") return Architecture::Llama;
    if (type == "mistral") return Architecture::Mistral;
    if (type == "qwen2") return Architecture::Qwen2;
    throw Error(ErrorCode::NotImplemented, source + ": model_type '" + type +
                                               "' is not a Llama-family model (llama, mistral, qwen2)");
  }
  if (name == "LlamaForCausalLM") return Architecture::Llama;
  if (name == "MistralForCausalLM") return Architecture::Mistral;
  if (name == "Qwen2ForCausalLM") return Architecture::Qwen2;
  throw Error(ErrorCode::NotImplemented, source + ": architecture " + name +
                                             " is not supported (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)");
}

std::optional<Llama3RopeScaling> rope_scaling_of(const JsonFields& fields, const std::string& source) {
  const json* scaling = fields.get("rope_scaling");
  if (!scaling) return std::nullopt;
  if (!scaling->is_object()) fields.fail("rope_scaling", "must be an object");
  const JsonFields s(*scaling, source + ": rope_scaling");
  const std::string type = s.get("rope_type") ? s.string("rope_type") : s.string("type");
  if (type == "default") return std::nullopt;
  if (type != "llama3")
    throw Error(ErrorCode::NotImplemented, source + ": rope_scaling type '" + type + "' is not supported (llama3)");
  Llama3RopeScaling r;
  r.factor = s.positive_number("factor", r.factor);
  r.low_freq_factor = s.positive_number("low_freq_factor", r.low_freq_factor);
  r.high_freq_factor = s.positive_number("high_freq_factor", r.high_freq_factor);
  if (r.high_freq_factor <= r.low_freq_factor)
    s.fail("high_freq_factor", "must be larger than low_freq_factor");
  r.original_max_position_embeddings = s.positive("original_max_position_embeddings", r.original_max_position_embeddings);
  return r;
}

}  // namespace

LlamaConfig parse_llama_config(const std::string& json_text, const std::string& source) {
  const json root = parse_json_object(json_text, source);
  const JsonFields f(root, source);
  LlamaConfig c;
  c.architecture = architecture_of(f, source);
  const std::string act = f.string("hidden_act");
  if (!act.empty() && act != "silu")
    throw Error(ErrorCode::NotImplemented, source + ": hidden_act '" + act + "' is not supported (silu)");
  c.vocab_size = f.positive("vocab_size");
  c.hidden_size = f.positive("hidden_size");
  c.intermediate_size = f.positive("intermediate_size");
  c.num_hidden_layers = f.positive("num_hidden_layers");
  c.num_attention_heads = f.positive("num_attention_heads");
  c.num_key_value_heads = f.positive("num_key_value_heads", c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    f.fail("num_key_value_heads", std::to_string(c.num_key_value_heads) + " does not divide num_attention_heads " +
                                      std::to_string(c.num_attention_heads));
  if (!f.integer("head_dim") && c.hidden_size % c.num_attention_heads != 0)
    f.fail("num_attention_heads", std::to_string(c.num_attention_heads) + " does not divide hidden_size " +
                                      std::to_string(c.hidden_size) + " and head_dim is not given");
  c.head_dim = f.positive("head_dim", c.hidden_size / c.num_attention_heads);
  c.max_position_embeddings = f.positive("max_position_embeddings", 2048);
  c.rms_norm_eps = f.positive_number("rms_norm_eps", 1e-6);
  c.rope_theta = f.positive_number("rope_theta", 10000.0);
  c.rope_scaling = rope_scaling_of(f, source);
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", false);
  // Qwen2 always has q/k/v biases and writes no attention_bias; Mistral has none.
  c.attention_bias = c.architecture == Architecture::Qwen2 || f.boolean("attention_bias", false);
  const bool sliding = c.architecture == Architecture::Mistral || f.boolean("use_sliding_window", false);
  if (sliding && f.integer("sliding_window")) c.sliding_window = f.positive("sliding_window");
  c.bos_token_id = f.integer("bos_token_id");
  c.eos_token_ids = f.integers("eos_token_id");
  for (int64_t id : c.eos_token_ids)
    if (id < 0 || id >= c.vocab_size) f.fail("eos_token_id", std::to_string(id) + " is outside the vocabulary");
  if (c.bos_token_id && (*c.bos_token_id < 0 || *c.bos_token_id >= c.vocab_size))
    f.fail("bos_token_id", std::to_string(*c.bos_token_id) + " is outside the vocabulary");
  c.torch_dtype = f.string("torch_dtype");
  return c;
}

LlamaConfig load_llama_config(const std::string& path) { return parse_llama_config(read_file(path), path); }

std::string llama_config_json(const LlamaConfig& c) {
  const char* architecture = c.architecture == Architecture::Mistral ? "MistralForCausalLM"
                             : c.architecture == Architecture::Qwen2 ? "Qwen2ForCausalLM"
                                                                     : "LlamaForCausalLM";
  json j = {{"architectures", {architecture}},
            {"hidden_act", "silu"},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_hidden_layers", c.num_hidden_layers},
            {"num_attention_heads", c.num_attention_heads},
            {"num_key_value_heads", c.num_key_value_heads},
            {"head_dim", c.head_dim},
            {"max_position_embeddings", c.max_position_embeddings},
            {"rms_norm_eps", c.rms_norm_eps},
            {"rope_theta", c.rope_theta},
            {"tie_word_embeddings", c.tie_word_embeddings},
            {"attention_bias", c.attention_bias},
            {"eos_token_id", c.eos_token_ids}};
  if (c.rope_scaling)
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope_scaling->factor},
                         {"low_freq_factor", c.rope_scaling->low_freq_factor},
                         {"high_freq_factor", c.rope_scaling->high_freq_factor},
                         {"original_max_position_embeddings", c.rope_scaling->original_max_position_embeddings}};
  if (c.sliding_window) {
    j["use_sliding_window"] = true;
    j["sliding_window"] = *c.sliding_window;
  }
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (!c.torch_dtype.empty()) j["torch_dtype"] = c.torch_dtype;
  return j.dump(2);
}

}  // namespace kiln::llm
