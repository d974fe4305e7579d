#include "core/trace.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "kiln/error.h"

namespace kiln {

void Trace::add(Event event) {
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(event));
}

void Trace::add(std::vector<Event>& events) {
  std::lock_guard lock(mutex_);
  for (Event& e : events) events_.push_back(std::move(e));
  events.clear();
}

size_t Trace::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

int64_t Trace::thread_id() { return static_cast<int64_t>(::syscall(SYS_gettid)); }

std::string Trace::json() const {
  std::lock_guard lock(mutex_);
  const int64_t pid = static_cast<int64_t>(::getpid());
  std::string out = "[\n";
  char numbers[128];
  for (size_t i = 0; i < events_.size(); ++i) {
    const Event& e = events_[i];
    using std::chrono::duration_cast;
    using std::chrono::nanoseconds;
    // Microseconds with nanosecond digits: short kernels (a few microseconds) keep their length.
    const double ts = static_cast<double>(duration_cast<nanoseconds>(e.start - begin_).count()) / 1e3;
    const double dur = static_cast<double>(duration_cast<nanoseconds>(e.duration).count()) / 1e3;
    std::snprintf(numbers, sizeof numbers, "\"pid\": %lld, \"tid\": %lld, \"ts\": %.3f, \"dur\": %.3f",
                  static_cast<long long>(pid), static_cast<long long>(e.thread), ts, dur);
    out += "{\"cat\": " + json_quote(e.category) + ", " + numbers + ", \"ph\": \"X\", \"name\": " + json_quote(e.name) +
           ", \"args\": {" + e.args + "}}" + (i + 1 < events_.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

void Trace::write(const std::string& path) const {
  const std::string text = json();
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(ErrorCode::Io, "cannot write the profile to '" + path + "'");
  out << text;
  out.close();
  if (!out) throw Error(ErrorCode::Io, "cannot write the profile to '" + path + "'");
}

void TraceSpan::record(std::string args) {
  if (!trace_) return;
  trace_->add({std::move(name_), std::move(category_), start_, Trace::Clock::now() - start_, Trace::thread_id(),
               std::move(args)});
}

}  // namespace kiln
