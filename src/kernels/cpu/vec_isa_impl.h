// The VecIsa table, built from the generic vector kernels. Included only by vec_isa_<level>.cc,
// each of which compiles it for its instruction set; internal linkage keeps the copies apart.
#pragma once

#include "kernels/cpu/elementwise_vec.h"
#include "kernels/cpu/norm_vec.h"
#include "kernels/cpu/pool_vec.h"
#include "kernels/cpu/softmax_vec.h"
#include "kernels/cpu/transpose_vec.h"
#include "kernels/cpu/vec_isa.h"

namespace kiln::kernels {
namespace {

constexpr VecIsa kVecIsa{&vec_unary,       &vec_binary,  &vec_softmax_rows, &vec_layer_norm_rows, &vec_rms_norm_rows,
                         &vec_scale_shift, &vec_pool_2d, &vec_sum,          &vec_max,            &vec_transpose_32};

}  // namespace
}  // namespace kiln::kernels
