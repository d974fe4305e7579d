// Dtype conversion shared by the kernels that produce a tensor of a dtype known only at run time
// (Cast, CastLike, Dropout's mask, EyeLike), and reading a dtype from an attribute.
#pragma once

#include <string>

#include "core/thread_pool.h"
#include "kiln/tensor.h"
#include "ops/kernel.h"

namespace kiln::ops {

// x converted elementwise to `to` (kernels::convert's semantics); x itself when it already has
// that dtype. Throws NotImplemented for String.
Tensor cast_tensor(const Tensor& x, DType to, ThreadPool& pool);

// The dtype an int attribute names (Cast's `to`, EyeLike's `dtype`). Throws InvalidModel when it
// names none, NotImplemented for String.
DType dtype_attribute(const KernelInfo& info, const std::string& name);

}  // namespace kiln::ops
