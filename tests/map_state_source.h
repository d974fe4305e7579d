// A map of named tensors as the StateSource that Module::load_state_dict reads, for tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "llm/nn/module.h"

namespace kiln::testing {

inline llm::nn::StateSource map_source(const std::map<std::string, Tensor>& tensors) {
  return {.name = "test weights",
          .names = [&tensors] {
            std::vector<std::string> names;
            for (const auto& [name, t] : tensors) names.push_back(name);
            return names;
          },
          .contains = [&tensors](const std::string& n) { return tensors.count(n) > 0; },
          .tensor = [&tensors](const std::string& n) { return tensors.at(n); }};
}

}  // namespace kiln::testing
