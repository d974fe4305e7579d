// Reading a string attribute that names one of a fixed set of choices (a mode, a reduction).
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "ops/kernel.h"

namespace kiln::ops {

// The choice that string attribute `attribute` (or `fallback` when absent) names; an InvalidModel
// error listing the known names otherwise.
//   parse_choice<Reduction>(info, "reduction", "mean", {{"none", Reduction::None}, {"sum", Reduction::Sum}});
template <class E>
E parse_choice(const KernelInfo& info, const std::string& attribute, const std::string& fallback,
               std::initializer_list<std::pair<const char*, E>> choices) {
  const std::string value = info.attr_string(attribute, fallback);
  std::string known;
  for (const auto& [name, choice] : choices) {
    if (value == name) return choice;
    known += known.empty() ? name : std::string(", ") + name;
  }
  throw Error(ErrorCode::InvalidModel, attribute + " '" + value + "' is not one of " + known);
}

}  // namespace kiln::ops
