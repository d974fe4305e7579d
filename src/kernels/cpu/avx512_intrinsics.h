// <immintrin.h> for AVX-512 kernels. GCC 12 warns that its own intrinsics read
// _mm512_undefined_* (GCC bug 105593) wherever they are inlined into straight-line code (an
// epilogue, a reduction); the pragma silences only the header.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
