// Stop strings on streamed text. Generation stops where a stop string first ends in the text; the
// text before that occurrence is emitted and the stop string never is. Text that could still be
// the start of a stop string is held back until later text settles it, and only that: the longest
// suffix so far that is a proper prefix of some stop string. What comes out is the same however
// the text is split into pushes.
//
// Matching is on bytes. When the text and the stop strings are whole UTF-8 characters, every cut
// (held back or stopped) falls between characters, since a stop string starts with a lead byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln::llm {

struct StopPush {
  std::string text;      // safe to emit now
  bool stopped = false;  // a stop string ended in the text: generation is over
};

class StopMatcher {
 public:
  // Error(InvalidArgument) naming its index for an empty stop string. No stop strings: every push
  // passes through.
  explicit StopMatcher(std::vector<std::string> stops);

  // Once stopped, later pushes emit nothing and report stopped.
  StopPush push(std::string_view new_text);
  // The text held back, at the end of generation (nothing once stopped).
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace kiln::llm
