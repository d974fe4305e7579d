// A Chrome trace being recorded: the JSON array of events that chrome://tracing and Perfetto
// open, in the shape ONNX Runtime's profiler writes (so the tools people use on its traces read
// Kiln's): one complete event ("ph": "X") per timed span, its start and duration in microseconds
// since the trace began, the OS thread it ran on, and its details in "args".
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_text.h"

namespace kiln {

class Trace {
 public:
  using Clock = std::chrono::steady_clock;

  struct Event {
    std::string name;
    std::string category;  // "Session" (creation phases, runs), "Node" (a node's kernel), ...
    Clock::time_point start;
    Clock::duration duration{};
    int64_t thread = 0;
    std::string args;  // the members of the "args" object, already JSON ("\"op_name\": \"Conv\""), or ""
  };

  Trace() : begin_(Clock::now()) {}
  // Safe from many threads.
  void add(Event event);
  void add(std::vector<Event>& events);  // moves them in under one lock
  size_t size() const;
  // The trace as JSON text; or written to `path` (Error(Io) naming it when that fails).
  std::string json() const;
  void write(const std::string& path) const;

  // The calling thread's OS id (what the trace's "tid" holds).
  static int64_t thread_id();

 private:
  const Clock::time_point begin_;
  mutable std::mutex mutex_;
  std::vector<Event> events_;
};

// Times a span from construction to record(); adds it to `trace` when trace is non-null.
class TraceSpan {
 public:
  TraceSpan(Trace* trace, std::string name, std::string category)
      : trace_(trace), name_(std::move(name)), category_(std::move(category)), start_(Trace::Clock::now()) {}
  void record(std::string args = "");

 private:
  Trace* trace_;
  std::string name_, category_;
  Trace::Clock::time_point start_;
};

}  // namespace kiln
