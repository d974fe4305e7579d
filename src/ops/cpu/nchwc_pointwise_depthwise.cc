// kiln.NchwcPointwiseDepthwise: a 1x1 convolution whose only reader is a depthwise convolution (an
// inverted residual block's expansion and filter, MobileNetV2), computed together so that a large
// expanded tensor (4.8 MB at MobileNetV2's 112 x 112 stage) never leaves the cache: each work item
// computes the 1x1 for its channel blocks one input row at a time into a ring of a few rows, and
// the depthwise rows read the ring as soon as their taps are there. On that stage this took the
// pair from 618 to 426 us; smaller expanded tensors run the two convolutions whole, which measured
// faster for every MobileNetV2 block from 28 x 28 down.
// The level-3 pass FuseNchwcPointwiseDepthwise creates it from two kiln.NchwcConv.
//
// Inputs: X NCHWc [N, ceil(C / b), H, W, b]; W1 [E, C, 1, 1] and B1 [E] (optional) of the 1x1;
// W2 [E, 1, kh, kw] and B2 [E] (optional) of the depthwise convolution; W1 and W2 initializers.
// Attributes: block; the depthwise convolution's kernel_shape, strides, pads, dilations, group (E),
// activation and activation_params; pointwise_activation and pointwise_activation_params for the
// 1x1. Output Y NCHWc [N, ceil(E / b), OH, OW, b].
#include <memory>

#include "core/aligned_buffer.h"
#include "kernels/cpu/nchwc.h"
#include "kernels/cpu/nchwc_conv.h"
#include "ops/cpu/conv_shape.h"
#include "ops/cpu/fused_activation.h"
#include "ops/cpu/nchwc_block.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// Work items per thread: enough to balance, few enough that per-row calls stay rare.
constexpr int64_t kItemsPerThread = 2;

// Expanded images up to this size (bytes) are computed whole; larger ones are streamed.
constexpr int64_t kStreamAbove = 2 << 20;

class NchwcPointwiseDepthwiseKernel final : public OpKernel {
 public:
  explicit NchwcPointwiseDepthwiseKernel(const KernelInfo& info)
      : attributes_(read_conv_attributes(info)),
        pointwise_activation_(read_fused_activation(info, "pointwise_")),
        activation_(read_fused_activation(info)),
        block_(read_nchwc_block(info)) {
    const Tensor& w1 = nchwc_constant_weights(info, 1, "W1");
    const Tensor& w2 = nchwc_constant_weights(info, 3, "W2");
    const int64_t expanded = w1.dim(0);
    if (w1.dim(2) != 1 || w1.dim(3) != 1 || w2.dim(0) != expanded || w2.dim(1) != 1 || attributes_.groups != expanded)
      throw Error(ErrorCode::InvalidModel, "W1 " + shape_to_string(w1.shape()) + " must be [E, C, 1, 1] and W2 " +
                                               shape_to_string(w2.shape()) + " [E, 1, kh, kw] with group E");
    const std::vector<int64_t> w_kernel{w2.dim(2), w2.dim(3)};
    if (attributes_.window.kernel.empty()) attributes_.window.kernel = w_kernel;
    if (attributes_.window.kernel != w_kernel)
      throw Error(ErrorCode::InvalidModel, "kernel_shape does not match W2 " + shape_to_string(w2.shape()));
    check_nchwc_window(attributes_.window);
    ScopedWeightStore pointwise_weights(info.weights(), "pointwise/"), depthwise_weights(info.weights(), "depthwise/");
    pointwise_ = std::make_unique<kernels::PreparedNchwcConv>(info.cpu_level(), w1.data<float>(), expanded, w1.dim(1),
                                                              1, 1, false, false, pointwise_weights);
    depthwise_ = std::make_unique<kernels::PreparedNchwcConv>(info.cpu_level(), w2.data<float>(), expanded, expanded,
                                                              w2.dim(2), w2.dim(3), true, false, depthwise_weights);
    for (size_t input : {2u, 4u})
      if (const Tensor* b = info.has_input(input) ? info.constant_input(input) : nullptr)
        constant_bias_[input / 2 - 1] =
            prepare_nchwc_padded_bias(info, input == 2 ? "bias1" : "bias2", *b, expanded, block_);
  }

  // W1 and W2 live on in the prepared convolutions only; constant biases in constant_bias_.
  bool reads_constant_data(size_t input) const override {
    if (input == 1 || input == 3) return false;
    return !((input == 2 || input == 4) && !constant_bias_[input / 2 - 1].empty());
  }

  void compute(KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t in_blocks = kernels::nchwc_blocks(pointwise_->in_channels(), block_);
    check_nchwc_input(x, block_);
    if (x.dim(1) != in_blocks)
      throw Error(ErrorCode::InvalidArgument, "X " + shape_to_string(x.shape()) + " must have " +
                                                  std::to_string(in_blocks) + " channel blocks");
    const int64_t H = x.dim(2), W = x.dim(3), B = block_;
    const kernels::WindowGeometry window = kernels::make_window_geometry({H, W}, attributes_.window);
    const int64_t out_h = window.output[0], out_w = window.output[1];
    const int64_t kh = window.kernel[0], sh = window.strides[0], dh = window.dilations[0], pad_top = window.pads_begin[0];
    const int64_t blocks = kernels::nchwc_blocks(pointwise_->out_channels(), B);
    Tensor& y = ctx.allocate_output(0, DType::Float32, {x.dim(0), blocks, out_h, out_w, B});
    if (y.numel() == 0) return;

    std::vector<float> run_bias[2];
    const float* bias[2];
    for (size_t i = 0; i < 2; ++i) {
      bias[i] = constant_bias_[i].empty() ? nullptr : constant_bias_[i].as<float>();
      if (!bias[i] && ctx.has_input(2 + 2 * i)) {
        run_bias[i] = nchwc_padded_bias(ctx.input(2 + 2 * i), pointwise_->out_channels(), B);
        bias[i] = run_bias[i].data();
      }
    }

    // An expanded tensor that fits in L2 costs little to write and read back, and the two
    // convolutions run faster whole (a 1x1 over a 14 x 14 plane reads each filter once, not once
    // per row): the rows are streamed through a ring only when the tensor is larger.
    const int64_t image_floats = blocks * H * W * B;
    if (image_floats * static_cast<int64_t>(sizeof(float)) <= kStreamAbove) {
      thread_local AlignedBuffer<float> whole;
      whole.resize_discarding(static_cast<size_t>(x.dim(0) * image_floats));
      pointwise_->run(x.data<float>(), {x.dim(0), H, W, H, W, 1, 1, 1, 1, 1, 1, 0, 0}, whole.data(),
                      {bias[0], nullptr, pointwise_activation_}, ctx.pool());
      depthwise_->run(whole.data(), {x.dim(0), H, W, out_h, out_w, kh, window.kernel[1], sh, window.strides[1], dh,
                                     window.dilations[1], pad_top, window.pads_begin[1]},
                      y.data<float>(), {bias[1], nullptr, activation_}, ctx.pool());
      return;
    }
    // The ring holds the rows one output row reads plus the rows the next one adds.
    // No more than H rows ever exist to keep (vertical strides may be larger than the image).
    const int64_t ring = std::min(H, (kh - 1) * dh + sh), pair = pointwise_->group_blocks();
    const int64_t pairs = (blocks + pair - 1) / pair, batch = x.dim(0);
    // An item is a range of channel pairs over a band of rows: pairs split first (bands repeat
    // the rows they share), and no further than the threads need, since every item computes each
    // of its rows with one call per convolution.
    const int64_t wanted = kItemsPerThread * ctx.pool().size();
    const int64_t ranges = std::clamp<int64_t>((wanted + batch - 1) / batch, 1, pairs);
    const int64_t range = (pairs + ranges - 1) / ranges, pair_ranges = (pairs + range - 1) / range;
    const int64_t bands = std::clamp<int64_t>((wanted + batch * pair_ranges - 1) / (batch * pair_ranges), 1, out_h);
    const int64_t band = (out_h + bands - 1) / bands;
    const int64_t x_image = in_blocks * H * W * B, y_image = blocks * out_h * out_w * B;
    const kernels::NchwcConvGeometry row_geometry{1, 1, W, 1, W, 1, 1, 1, 1, 1, 1, 0, 0};
    const kernels::NchwcConvGeometry filter_geometry{1,  H,  W,  out_h, out_w, kh, window.kernel[1], sh, window.strides[1],
                                                     dh, window.dilations[1], pad_top, window.pads_begin[1]};
    ctx.pool().parallel_for(batch * pair_ranges * bands, [&](int64_t begin, int64_t end) {
      // Laid out like an image of `ring` rows, so that both convolutions index blocks as usual; an
      // item fills only its own pairs' blocks.
      thread_local AlignedBuffer<float> rows;
      rows.resize_discarding(static_cast<size_t>(blocks * ring * W * B));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t first_pair = item % pair_ranges * range, last_pair = std::min(pairs, first_pair + range);
        const int64_t n = item / pair_ranges % batch, first_row = item / (pair_ranges * batch) * band;
        const int64_t last_row = std::min(out_h, first_row + band);
        const float* image = x.data<float>() + n * x_image;
        float* out = y.data<float>() + n * y_image;
        // The ring starts at the first row that the band's first output row reads.
        int64_t next = std::max<int64_t>(0, first_row * sh - pad_top);
        for (int64_t oy = first_row; oy < last_row; ++oy) {
          const int64_t needed = std::min(H, oy * sh - pad_top + (kh - 1) * dh + 1);
          for (; next < needed; ++next)
            pointwise_->run_rows(image + next * W * B, row_geometry, rows.data() + next % ring * W * B,
                                 {bias[0], nullptr, pointwise_activation_}, 0, 1, first_pair, last_pair,
                                 {H * W * B, ring * W * B, 0});
          depthwise_->run_rows(rows.data(), filter_geometry, out, {bias[1], nullptr, activation_}, oy, oy + 1,
                               first_pair * pair, last_pair * pair, {ring * W * B, out_h * out_w * B, ring});
        }
      }
    });
  }

 private:
  ConvAttributes attributes_;
  kernels::Activation pointwise_activation_, activation_;
  int64_t block_;
  std::unique_ptr<kernels::PreparedNchwcConv> pointwise_, depthwise_;
  PreparedWeights constant_bias_[2];  // padded B1 and B2, when they are initializers
};
KILN_KERNEL(NchwcPointwiseDepthwiseKernel, {.op = "NchwcPointwiseDepthwise", .domain = "kiln", .since = 1,
                                            .types = types::kFloat});

}  // namespace
}  // namespace kiln::ops
