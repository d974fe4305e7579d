// The shipped models/kjv and its tokenizer, loaded once per test suite derived from KjvModelTest.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/cpu_features.h"
#include "llm/llama_loader.h"
#include "llm/tokenizer.h"

namespace kiln::testing {

inline const std::string kKjv = std::string(KILN_SOURCE_DIR) + "/models/kjv";

class KjvModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = llm::load_llama(kKjv, {.level = default_cpu_level()});
    tokenizer_ = llm::Tokenizer::load(kKjv);
  }
  static void TearDownTestSuite() {
    model_.reset();
    tokenizer_.reset();
  }
  static inline std::unique_ptr<llm::LlamaForCausalLM> model_;
  static inline std::unique_ptr<llm::Tokenizer> tokenizer_;
};

}  // namespace kiln::testing
