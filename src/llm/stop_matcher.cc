#include "llm/stop_matcher.h"

#include "kiln/error.h"

namespace kiln::llm {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (size_t i = 0; i < stops_.size(); ++i)
    if (stops_[i].empty()) throw Error(ErrorCode::InvalidArgument, "stop string " + std::to_string(i) + " is empty");
}

StopPush StopMatcher::push(std::string_view new_text) {
  if (stopped_) return {"", true};
  // held_ holds no whole stop string, and nothing emitted before it can start one (it is the
  // longest suffix that could), so every occurrence to find starts in held_ + new_text.
  held_.append(new_text);
  size_t end = std::string::npos, length = 0;
  for (const std::string& stop : stops_) {
    const size_t at = held_.find(stop);
    if (at == std::string::npos) continue;
    // The earliest end is where streaming would have stopped; at the same end, the longer stop
    // started earlier and is the one stripped.
    if (at + stop.size() < end || (at + stop.size() == end && stop.size() > length)) {
      end = at + stop.size();
      length = stop.size();
    }
  }
  if (end != std::string::npos) {
    stopped_ = true;
    std::string text = held_.substr(0, end - length);
    held_.clear();
    return {std::move(text), true};
  }
  size_t hold = 0;
  for (const std::string& stop : stops_)
    for (size_t n = std::min(stop.size() - 1, held_.size()); n > hold; --n)
      if (std::string_view(held_).substr(held_.size() - n) == std::string_view(stop).substr(0, n)) {
        hold = n;
        break;
      }
  StopPush out{held_.substr(0, held_.size() - hold), false};
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  std::string text = std::move(held_);
  held_.clear();
  return text;
}

}  // namespace kiln::llm
