// Ops that only move elements (transpose, slice, gather, pad...) do not care what an element means,
// only how wide it is. They run on fixed-width byte blocks so one instantiation per width serves
// every dtype of that width.
#pragma once

#include <cstddef>
#include <string>

#include "kiln/error.h"

namespace kiln::kernels {

template <size_t N>
struct ElementBytes {
  unsigned char bytes[N];
};

template <class T>
struct ElementTag {
  using type = T;
};

// Calls fn(ElementTag<ElementBytes<N>>{}) for element_size N in {1, 2, 4, 8}.
template <class F>
void dispatch_element_size(size_t element_size, F&& fn) {
  switch (element_size) {
    case 1: return fn(ElementTag<ElementBytes<1>>{});
    case 2: return fn(ElementTag<ElementBytes<2>>{});
    case 4: return fn(ElementTag<ElementBytes<4>>{});
    case 8: return fn(ElementTag<ElementBytes<8>>{});
    default:
      throw Error(ErrorCode::NotImplemented,
                  "elements of " + std::to_string(element_size) + " bytes are not supported");
  }
}

}  // namespace kiln::kernels
