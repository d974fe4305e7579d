// The filters, tests, methods and global functions of Kiln's Jinja subset: those the chat
// templates of the Llama, Mistral, Qwen and Zephyr families use, with Python's and Jinja's
// semantics. A name outside these tables is an error (at parse time for filters and tests), never
// a pass-through.
#pragma once

#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "llm/chat_template_value.h"

namespace kiln::llm::jinja {

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
};

// The caps that stop a malformed or hostile template from running away: the bytes of text one
// render may build in all (every string made, every byte output), the largest one string or list
// may be, and the loop iterations it may run.
class RenderBudget {
 public:
  RenderBudget(size_t total_bytes, size_t max_size, size_t iterations)
      : bytes_left_(total_bytes), max_size_(max_size), max_iterations_(iterations), iterations_left_(iterations) {}
  // Faults past a cap.
  void spend_bytes(size_t n);
  void spend_iteration();
  size_t max_size() const { return max_size_; }
  size_t max_iterations() const { return max_iterations_; }

 private:
  size_t bytes_left_;
  size_t max_size_;
  size_t max_iterations_;
  size_t iterations_left_;
};

struct CallContext {
  RenderBudget& budget;
  std::time_t now;  // strftime_now's clock
};

bool is_filter(const std::string& name);
bool is_test(const std::string& name);
// The global functions every render defines (raise_exception, range, namespace, strftime_now).
const std::vector<std::string>& function_names();

// Each Faults with the builtin's name for arguments it cannot take; a method name the value's type
// lacks Faults with NotImplemented.
Value apply_filter(const std::string& name, const Value& subject, const CallArgs& args, CallContext& context);
bool apply_test(const std::string& name, const Value& subject, const CallArgs& args);
Value call_method(const Value& self, const std::string& name, const CallArgs& args, CallContext& context);
Value call_function(const std::string& name, const CallArgs& args, CallContext& context);

}  // namespace kiln::llm::jinja
