// Softmax, LogSoftmax and Hardmax along one axis of a dense float tensor (LogSoftmax also double,
// for SoftmaxCrossEntropyLoss) viewed as [outer, n, inner]: the axis has n elements, `inner` is the
// product of the dims after it (1 when the axis is last, or when an opset < 13 model coerces the
// input to 2-D).
#pragma once

#include <cstdint>

namespace kiln::kernels {

// Numerically stable: the maximum along the axis is subtracted before exponentiating.
void softmax_ref(const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
void log_softmax_ref(const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
void log_softmax_ref(const double* x, double* y, int64_t outer, int64_t n, int64_t inner);
// 1 at the first maximum along the axis, 0 elsewhere.
void hardmax_ref(const float* x, float* y, int64_t outer, int64_t n, int64_t inner);

}  // namespace kiln::kernels
