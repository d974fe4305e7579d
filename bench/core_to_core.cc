// core_to_core [CPU_A CPU_B]: what it costs one core to use data another core just wrote, which
// decides how the thread pool hands out work (docs/architecture.md, "Threads are injected").
// Pins two threads to CPUs A and B (default 0 and 1) and prints one JSON line:
//   {"cpus": [0, 1], "round_trip_ns": 428, "remote_read_us": 39.1, "local_read_us": 9.4, "bytes": 1048576, ...}
// round_trip_ns: one cache line passed from A to B and back (a flag each side waits for).
// remote_read_us: A updating every line of a buffer that B wrote last; local_read_us: A doing it
// again, the lines now its own. Each is the best of several repeats. checksum (the buffer's first
// value) keeps the updates observable, so that they cannot be optimized away.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr int kRoundTrips = 200'000;
constexpr size_t kBytes = size_t{1} << 20;
constexpr int kRepeats = 5;

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
    std::fprintf(stderr, "core_to_core: cannot pin a thread to CPU %d\n", cpu);
    std::exit(1);
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double round_trip_ns(int a, int b) {
  alignas(64) std::atomic<int> flag{0};
  std::thread other([&] {
    pin(b);
    for (int i = 0; i < kRoundTrips; ++i) {
      while (flag.load(std::memory_order_acquire) != 2 * i + 1) {
      }
      flag.store(2 * i + 2, std::memory_order_release);
    }
  });
  pin(a);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRoundTrips; ++i) {
    flag.store(2 * i + 1, std::memory_order_release);
    while (flag.load(std::memory_order_acquire) != 2 * i + 2) {
    }
  }
  const double ns = seconds_since(start) * 1e9 / kRoundTrips;
  other.join();
  return ns;
}

// Adds 1 to one float of every cache line: each line is read for ownership, then written.
double touch_lines_us(std::vector<float>& buffer) {
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < buffer.size(); i += 64 / sizeof(float)) buffer[i] += 1.f;
  return seconds_since(start) * 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 1 && argc != 3) {
    std::fprintf(stderr, "usage: core_to_core [CPU_A CPU_B]\n");
    return 2;
  }
  const int a = argc == 3 ? std::atoi(argv[1]) : 0, b = argc == 3 ? std::atoi(argv[2]) : 1;
  double round_trip = 1e30, remote = 1e30, local = 1e30;
  std::vector<float> buffer(kBytes / sizeof(float));
  for (int r = 0; r < kRepeats; ++r) {
    round_trip = std::min(round_trip, round_trip_ns(a, b));
    std::thread writer([&] {
      pin(b);
      for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<float>(i);
    });
    writer.join();
    pin(a);
    remote = std::min(remote, touch_lines_us(buffer));
    local = std::min(local, touch_lines_us(buffer));
  }
  std::printf("{\"cpus\": [%d, %d], \"round_trip_ns\": %.0f, \"remote_read_us\": %.1f, \"local_read_us\": %.1f, "
              "\"bytes\": %zu, \"checksum\": %.0f}\n",
              a, b, round_trip, remote, local, kBytes, static_cast<double>(buffer[0]));
  return 0;
}
