#include "progress_bar.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace kiln::cli {

llm::nn::Progress terminal_progress_bar() {
  if (!isatty(STDERR_FILENO)) return {};
  constexpr int64_t kWidth = 40;
  return [last = int64_t{-1}](std::string_view stage, int64_t done, int64_t total) mutable {
    const int64_t filled = total > 0 ? done * kWidth / total : kWidth;
    if (done < total && filled == last) return;
    last = done < total ? filled : -1;
    const std::string bar = std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r%-9.*s [%s] %lld/%lld", static_cast<int>(stage.size()), stage.data(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total));
    if (done >= total) std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  };
}

}  // namespace kiln::cli
