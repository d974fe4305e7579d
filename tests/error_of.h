// The kiln::Error a call throws, for tests that check its code and message; empty when the call
// returns.
#pragma once

#include <optional>
#include <utility>

#include "kiln/error.h"

namespace kiln::testing {

template <class F>
std::optional<Error> error_of(F&& call) {
  try {
    std::forward<F>(call)();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace kiln::testing
