// kiln._kiln.LLM: kiln::llm::LLM for kiln/llm/, which gives it vLLM's shape. Loading, generating
// and scoring release the GIL; a text callback takes it back for each piece.
#include <pybind11/stl.h>

#include "bindings.h"
#include "kiln/llm.h"

namespace kiln::python {
namespace {

using llm::ChatMessage;
using llm::Completion;
using llm::GenerateOptions;
using llm::LLM;
using llm::LoadOptions;
using llm::SamplingOverrides;

// `on_text` (None, or a callable that returns False to stop) as the facade's callback. The
// callable stays owned by the caller's frame, so no Python reference changes hands without the GIL.
llm::TextCallback text_callback(const py::object& on_text) {
  if (on_text.is_none()) return {};
  return [&on_text](std::string_view text) {
    py::gil_scoped_acquire gil;
    return on_text(py::str(text.data(), text.size())).ptr() != Py_False;
  };
}

std::vector<ChatMessage> chat_messages(const std::vector<std::pair<std::string, std::string>>& messages) {
  std::vector<ChatMessage> out;
  for (const auto& [role, content] : messages) out.push_back({role, content});
  return out;
}

}  // namespace

void bind_llm(py::module_& m) {
  py::class_<LoadOptions>(m, "LoadOptions")
      .def(py::init<>())
      .def_readwrite("quant", &LoadOptions::quant)
      .def_readwrite("group", &LoadOptions::group)
      .def_readwrite("cpu_level", &LoadOptions::cpu_level)
      .def_readwrite("threads", &LoadOptions::threads)
      .def_readwrite("context", &LoadOptions::context)
      .def_readwrite("kv_cache", &LoadOptions::kv_cache)
      .def_readwrite("enable_profiling", &LoadOptions::enable_profiling);

  py::class_<llm::SamplingParams>(m, "ResolvedSampling")
      .def_readonly("temperature", &llm::SamplingParams::temperature)
      .def_readonly("top_k", &llm::SamplingParams::top_k)
      .def_readonly("top_p", &llm::SamplingParams::top_p)
      .def_readonly("min_p", &llm::SamplingParams::min_p)
      .def_readonly("repetition_penalty", &llm::SamplingParams::repetition_penalty)
      .def_readonly("presence_penalty", &llm::SamplingParams::presence_penalty)
      .def_readonly("frequency_penalty", &llm::SamplingParams::frequency_penalty)
      .def_readonly("penalty_last_n", &llm::SamplingParams::penalty_last_n)
      .def_readonly("seed", &llm::SamplingParams::seed);

  py::class_<SamplingOverrides>(m, "SamplingOverrides")
      .def(py::init<>())
      .def_readwrite("temperature", &SamplingOverrides::temperature)
      .def_readwrite("top_k", &SamplingOverrides::top_k)
      .def_readwrite("top_p", &SamplingOverrides::top_p)
      .def_readwrite("min_p", &SamplingOverrides::min_p)
      .def_readwrite("repetition_penalty", &SamplingOverrides::repetition_penalty)
      .def_readwrite("presence_penalty", &SamplingOverrides::presence_penalty)
      .def_readwrite("frequency_penalty", &SamplingOverrides::frequency_penalty)
      .def_readwrite("penalty_last_n", &SamplingOverrides::penalty_last_n)
      .def_readwrite("seed", &SamplingOverrides::seed)
      .def(
          "validate", [](const SamplingOverrides& o) { o.over(llm::SamplingParams{}).validate(); },
          "Error(InvalidArgument) naming the first field set out of its range.");

  py::class_<GenerateOptions>(m, "GenerateOptions")
      .def(py::init<>())
      .def_readwrite("sampling", &GenerateOptions::sampling)
      .def_readwrite("max_tokens", &GenerateOptions::max_tokens)
      .def_readwrite("stop", &GenerateOptions::stop)
      .def_readwrite("stop_token_ids", &GenerateOptions::stop_token_ids)
      .def_readwrite("ignore_eos", &GenerateOptions::ignore_eos)
      .def_readwrite("skip_special_tokens", &GenerateOptions::skip_special_tokens);

  py::class_<Completion>(m, "Completion")
      .def_readonly("prompt_token_ids", &Completion::prompt_token_ids)
      .def_readonly("text", &Completion::text)
      .def_property_readonly("token_ids", [](const Completion& c) { return c.stats.token_ids; })
      .def_property_readonly("stop_reason", [](const Completion& c) { return llm::stop_reason_name(c.stats.stop_reason); })
      .def_property_readonly("prefilled_tokens", [](const Completion& c) { return c.stats.prefilled_tokens; })
      .def_property_readonly("prefill_seconds", [](const Completion& c) { return c.stats.prefill_seconds; })
      .def_property_readonly("decode_seconds", [](const Completion& c) { return c.stats.decode_seconds; });

  py::class_<llm::PerplexityResult>(m, "PerplexityResult")
      .def_readonly("nll", &llm::PerplexityResult::nll)
      .def_readonly("tokens", &llm::PerplexityResult::tokens)
      .def_readonly("lines", &llm::PerplexityResult::lines)
      .def_property_readonly("perplexity", &llm::PerplexityResult::perplexity);

  py::class_<LLM>(m, "LLM")
      .def(py::init([](const std::string& model, const LoadOptions& options) {
             py::gil_scoped_release release;
             return std::make_unique<LLM>(model, options);
           }),
           py::arg("model"), py::arg("options"))
      .def_property_readonly("model_path", &LLM::model_path)
      .def_property_readonly("context", &LLM::context)
      .def_property_readonly("vocab_size", &LLM::vocab_size)
      .def_property_readonly("bos_id", &LLM::bos_id)
      .def_property_readonly("eos_id", &LLM::eos_id)
      .def("encode", &LLM::encode, py::arg("text"), py::arg("add_special_tokens") = true,
           py::call_guard<py::gil_scoped_release>())
      .def(
          "decode",
          [](const LLM& llm, const std::vector<int32_t>& ids, bool skip_special_tokens) {
            std::string text;
            {
              py::gil_scoped_release release;
              text = llm.decode(ids, skip_special_tokens);
            }
            return text;
          },
          py::arg("ids"), py::arg("skip_special_tokens") = false)
      .def("token_to_id", &LLM::token_to_id, py::arg("token"))
      .def("id_to_token", &LLM::id_to_token, py::arg("id"))
      .def("default_sampling", &LLM::default_sampling)
      .def("default_max_tokens", &LLM::default_max_tokens, py::arg("prompt_tokens"))
      .def(
          "generate",
          [](LLM& llm, const std::vector<int32_t>& prompt, const GenerateOptions& options, const py::object& on_text) {
            const llm::TextCallback callback = text_callback(on_text);
            py::gil_scoped_release release;
            return llm.generate(prompt, options, callback);
          },
          py::arg("prompt"), py::arg("options"), py::arg("on_text") = py::none())
      .def(
          "apply_chat_template",
          [](const LLM& llm, const std::vector<std::pair<std::string, std::string>>& messages, bool add_generation_prompt) {
            return llm.apply_chat_template(chat_messages(messages), add_generation_prompt);
          },
          py::arg("messages"), py::arg("add_generation_prompt") = true)
      .def("perplexity", &LLM::perplexity, py::arg("text"), py::arg("batch_tokens") = 1024,
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("weights", &LLM::weights)
      .def("end_profiling", &LLM::end_profiling, py::arg("path"), py::call_guard<py::gil_scoped_release>());
}

}  // namespace kiln::python
