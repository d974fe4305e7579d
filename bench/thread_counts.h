// The thread counts a bench tool measures, from its arguments: each a positive count; none given
// means 1 and every hardware thread. Prints the usage and exits with 2 on a bad argument.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

inline std::vector<int> thread_counts(int argc, char** argv, const char* program) {
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i) {
    const int n = std::atoi(argv[i]);
    if (n < 1) {
      std::fprintf(stderr, "usage: %s [THREADS ...]  (each a positive thread count; got '%s')\n", program, argv[i]);
      std::exit(2);
    }
    counts.push_back(n);
  }
  if (counts.empty()) counts = {1, std::max(1, static_cast<int>(std::thread::hardware_concurrency()))};
  return counts;
}
