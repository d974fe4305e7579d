#include "kiln/llm.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "core/thread_pool.h"
#include "kiln/error.h"
#include "llm/chat_template.h"
#include "llm/generation_config.h"
#include "llm/generator.h"
#include "llm/load_options.h"
#include "llm/model_files.h"
#include "llm/perplexity.h"
#include "llm/tokenizer.h"

namespace kiln::llm {

struct LLM::State {
  std::string path;
  kernels::KvDtype kv_dtype = kernels::KvDtype::Float32;
  int64_t context = 0;
  GenerationConfig config;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<LlamaForCausalLM> model;
  std::vector<int32_t> eos_ids;  // generation_config.json's and the tokenizer's
  // A model without a template still generates; chat() reports why it has none.
  std::optional<ModelChatTemplate> chat_template;
  std::exception_ptr chat_template_error;
  std::unique_ptr<ThreadPool> pool;
  std::mutex running;  // the generator, its cache and the pool serve one call at a time
  std::unique_ptr<Generator> generator;  // made by the first generation: perplexity needs no cache
  std::unique_ptr<Trace> trace;          // while profiling (LoadOptions::enable_profiling)

  Generator& generator_locked() {
    if (!generator)
      generator = std::make_unique<Generator>(*model, *tokenizer, *pool, context, 512, kv_dtype, trace.get());
    return *generator;
  }
};

namespace {

void check_options(const LoadOptions& options) {
  if (options.threads < 0)
    throw Error(ErrorCode::InvalidArgument, "threads must not be negative, got " + std::to_string(options.threads));
  if (options.context < 0)
    throw Error(ErrorCode::InvalidArgument, "context must not be negative, got " + std::to_string(options.context));
}

}  // namespace

LLM::LLM(const std::string& model, const LoadOptions& options, const LoadProgress& progress)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = model;
  // Every option is checked before the weights are read.
  check_options(options);
  s.kv_dtype = kv_dtype(options);
  prepare_options(options, model);
  // The side files are read once, for the config, the tokenizer and the chat template alike.
  const ModelFiles files = ModelFiles::open(model);
  s.config = load_generation_config(files);
  s.tokenizer = Tokenizer::load(files);
  if (options.enable_profiling) s.trace = std::make_unique<Trace>();
  TraceSpan loading(s.trace.get(), "model_loading", "Session");
  s.model = load_model(model, options, progress);
  loading.record("\"path\": " + json_quote(model) + ", \"weights\": " +
                 json_quote(nn::weight_quant_name(s.model->prepared_for().quant.kind)));
  const int64_t limit = s.model->config().max_position_embeddings;
  if (options.context > limit)
    throw Error(ErrorCode::InvalidArgument, "context of " + std::to_string(options.context) +
                                                " positions is more than the model's max_position_embeddings, " +
                                                std::to_string(limit));
  s.context = options.context > 0 ? options.context : std::min<int64_t>(limit, 4096);
  s.eos_ids = s.config.eos_token_ids;
  if (const auto eos = s.tokenizer->eos_id()) s.eos_ids.push_back(*eos);
  try {
    s.chat_template = load_chat_template(files);
  } catch (const Error&) {
    s.chat_template_error = std::current_exception();
  }
  s.pool = std::make_unique<ThreadPool>(
      options.threads > 0 ? options.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
}

LLM::~LLM() = default;
LLM::LLM(LLM&&) noexcept = default;
LLM& LLM::operator=(LLM&&) noexcept = default;

const std::string& LLM::model_path() const { return state_->path; }
int64_t LLM::context() const { return state_->context; }
std::string LLM::weights() const { return nn::weight_quant_name(state_->model->prepared_for().quant.kind); }

std::vector<int32_t> LLM::encode(std::string_view text, bool add_special_tokens) const {
  return state_->tokenizer->encode(text, add_special_tokens);
}
std::string LLM::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  return state_->tokenizer->decode(ids, skip_special_tokens);
}
int32_t LLM::vocab_size() const { return state_->tokenizer->vocab_size(); }
std::optional<int32_t> LLM::bos_id() const { return state_->tokenizer->bos_id(); }
std::optional<int32_t> LLM::eos_id() const { return state_->tokenizer->eos_id(); }
std::optional<int32_t> LLM::token_to_id(std::string_view token) const { return state_->tokenizer->token_to_id(token); }
std::string LLM::id_to_token(int32_t id) const { return state_->tokenizer->id_to_token(id); }

SamplingParams LLM::default_sampling() const { return resolve_sampling({}, state_->config); }
std::optional<int64_t> LLM::default_max_tokens(int64_t prompt_tokens) const {
  return state_->config.new_token_limit(prompt_tokens);
}

Completion LLM::generate(std::span<const int32_t> prompt, const GenerateOptions& options, const TextCallback& on_text) {
  State& s = *state_;
  GenerationOptions g;
  g.sampling = resolve_sampling(options.sampling, s.config);
  g.stop_strings = options.stop;
  if (!options.ignore_eos) g.eos_ids = s.eos_ids;
  for (const int32_t id : options.stop_token_ids) {
    if (id < 0 || id >= s.model->config().vocab_size)
      throw Error(ErrorCode::InvalidArgument, "stop token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                                  std::to_string(s.model->config().vocab_size) + ")");
    g.eos_ids.push_back(id);
  }
  if (options.max_tokens && *options.max_tokens < 0)
    throw Error(ErrorCode::InvalidArgument, "max_tokens must not be negative, got " + std::to_string(*options.max_tokens));
  g.max_new_tokens = options.max_tokens ? options.max_tokens : s.config.new_token_limit(static_cast<int64_t>(prompt.size()));
  g.skip_special_tokens = options.skip_special_tokens;
  std::atomic<bool> cancel = false;
  g.cancel = &cancel;

  Completion c;
  c.prompt_token_ids.assign(prompt.begin(), prompt.end());
  std::lock_guard lock(s.running);
  c.stats = s.generator_locked().generate(prompt, g, [&](std::string_view text) {
    c.text += text;
    if (on_text && !on_text(text)) cancel = true;
  });
  return c;
}

std::string LLM::apply_chat_template(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  const State& s = *state_;
  if (!s.chat_template) std::rethrow_exception(s.chat_template_error);
  const TemplateContext context{.bos_token = s.chat_template->bos_token, .eos_token = s.chat_template->eos_token};
  return s.chat_template->chat_template.render(messages, add_generation_prompt, context);
}

Completion LLM::chat(const std::vector<ChatMessage>& messages, const GenerateOptions& options,
                     const TextCallback& on_text) {
  return generate(encode(apply_chat_template(messages, true), false), options, on_text);
}

bool LLM::end_profiling(const std::string& path) {
  State& s = *state_;
  std::lock_guard lock(s.running);
  if (!s.trace) return false;
  s.trace->write(path);
  // The generator records into the trace it was made with; the next one records nothing.
  s.generator.reset();
  s.trace.reset();
  return true;
}

PerplexityResult LLM::perplexity(std::string_view text, int64_t batch_tokens) {
  State& s = *state_;
  if (batch_tokens <= 0)
    throw Error(ErrorCode::InvalidArgument, "batch_tokens must be positive, got " + std::to_string(batch_tokens));
  // config.json's BOS wins over the tokenizer's, as models/kjv/eval_perplexity.py reads it.
  std::optional<int32_t> bos = s.tokenizer->bos_id();
  if (const auto id = s.model->config().bos_token_id) bos = static_cast<int32_t>(*id);
  if (!bos) throw Error(ErrorCode::InvalidModel, s.path + ": neither config.json nor the tokenizer names a BOS token");
  const std::vector<std::string> lines = nonempty_lines(text);
  std::lock_guard lock(s.running);
  return score_lines(*s.model, *s.tokenizer, lines, *bos, *s.pool, batch_tokens);
}

}  // namespace kiln::llm
