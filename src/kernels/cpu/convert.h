// Element conversion between any two Kiln dtypes (Cast's semantics), defined for every input:
// float to integer saturates and maps NaN to 0 where a plain static_cast is undefined behaviour,
// half types go through float, and anything nonzero (NaN included) is true.
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>

#include "kiln/dtype.h"

namespace kiln::kernels {

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

template <class To, class From>
To convert(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (is_half_v<From>) {
    return convert<To>(to_float(value));
  } else if constexpr (std::is_same_v<To, Float16>) {
    return to_float16(convert<float>(value));
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return to_bfloat16(convert<float>(value));
  } else if constexpr (std::is_same_v<To, bool>) {
    return value != From{0};
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    // lowest() is exactly representable (0 or -2^k); max() rounds up to 2^k, so `>=` catches every
    // value that does not fit.
    constexpr From lowest = static_cast<From>(std::numeric_limits<To>::lowest());
    constexpr From highest = static_cast<From>(std::numeric_limits<To>::max());
    if (std::isnan(value)) return To{0};
    if (value <= lowest) return std::numeric_limits<To>::lowest();
    if (value >= highest) return std::numeric_limits<To>::max();
    return static_cast<To>(value);
  } else {
    return static_cast<To>(value);
  }
}

}  // namespace kiln::kernels
