#include "passes/pass_manager.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "kernels/cpu/nchwc.h"
#include "kiln/error.h"
#include "ops/shapes/shape_functions.h"
#include "passes/cancel_transposes.h"
#include "passes/convert_matmul_to_gemm.h"
#include "passes/drop_qdq_around_data_movement.h"
#include "passes/eliminate_common_subexpressions.h"
#include "passes/eliminate_dead_code.h"
#include "passes/eliminate_no_ops.h"
#include "passes/fold_constants.h"
#include "passes/fold_conv_batch_norm.h"
#include "passes/fold_conv_scale_bias.h"
#include "passes/fold_matmul_scale.h"
#include "passes/fold_shapes.h"
#include "passes/fold_transpose_into_gemm.h"
#include "passes/fold_transpose_into_matmul.h"
#include "passes/fuse_dynamic_matmul.h"
#include "passes/fuse_activation.h"
#include "passes/fuse_attention.h"
#include "passes/fuse_conv_add.h"
#include "passes/fuse_gelu.h"
#include "passes/fuse_layer_norm.h"
#include "passes/fuse_matmul_bias.h"
#include "passes/fuse_nchwc_pointwise_depthwise.h"
#include "passes/fuse_qdq_add.h"
#include "passes/fuse_qdq_products.h"
#include "passes/fuse_rms_norm.h"
#include "passes/fuse_silu.h"
#include "passes/fuse_skip_layer_norm.h"
#include "passes/nchwc_layout.h"
#include "passes/quantized_channels_last.h"

namespace kiln::passes {
namespace {

constexpr int kMaxLevel = 3;

std::vector<std::unique_ptr<GraphPass>> passes_of_level(int level, CpuLevel cpu_level) {
  std::vector<std::unique_ptr<GraphPass>> passes;
  if (level == 1) {
    // Constant inputs first, so that the rewrites after it see initializers, not Constant nodes.
    passes.push_back(std::make_unique<FoldConstants>(cpu_level));
    // The shapes it makes constant start Gather/Unsqueeze/Concat chains, which FoldConstants folds
    // in the next round; the Reshape they feed gets its static shape the round after.
    passes.push_back(std::make_unique<FoldShapes>());
    passes.push_back(std::make_unique<EliminateNoOps>());
    passes.push_back(std::make_unique<CancelTransposes>());
    // Before the folds into Conv: two equal Conv -> BatchNormalization chains become one first.
    passes.push_back(std::make_unique<EliminateCommonSubexpressions>());
    passes.push_back(std::make_unique<FoldConvBatchNorm>());
    passes.push_back(std::make_unique<FoldConvScaleBias>());
    // Before the conversion to Gemm: it folds scales into MatMuls only.
    passes.push_back(std::make_unique<FoldMatMulScale>());
    // Before FoldTransposeIntoGemm, which folds the Transposes of the MatMuls it turns into Gemm.
    passes.push_back(std::make_unique<ConvertMatMulToGemm>());
    passes.push_back(std::make_unique<FoldTransposeIntoGemm>());
    // Last: collects what the others left unread (replaced weights, bypassed producers).
    passes.push_back(std::make_unique<EliminateDeadCode>());
  }
  if (level == 2) {
    // First: the float fusions below would take a product out of its QDQ node unit.
    passes.push_back(std::make_unique<FuseQdqProducts>());
    passes.push_back(std::make_unique<FuseQdqAdd>());
    passes.push_back(std::make_unique<DropQdqAroundDataMovement>());
    passes.push_back(std::make_unique<FuseDynamicMatMul>());
    passes.push_back(std::make_unique<FuseLayerNorm>());
    passes.push_back(std::make_unique<FuseRmsNorm>());
    passes.push_back(std::make_unique<FuseGelu>());
    passes.push_back(std::make_unique<FuseSilu>());
    passes.push_back(std::make_unique<FuseAttention>());
    // Before FuseSkipLayerNorm: a Linear layer's bias Add belongs in the GEMM's epilogue, not in
    // a norm's skip input.
    passes.push_back(std::make_unique<FuseMatMulBias>());
    // After FuseAttention, whose pattern holds the Transposes of Q, K and V, and FuseMatMulBias,
    // which matches MatMul only; FuseActivation takes kiln.FusedMatMul as it takes MatMul.
    passes.push_back(std::make_unique<FoldTransposeIntoMatMul>());
    passes.push_back(std::make_unique<FuseSkipLayerNorm>());
    // The residual Add must be fused before the activation: FusedConv adds Z before activating,
    // so once an activation is in, no Add can follow it in.
    passes.push_back(std::make_unique<FuseConvAdd>());
    // Takes kiln.Gelu and kiln.Silu into the epilogues as well as the ONNX activations.
    passes.push_back(std::make_unique<FuseActivation>());
    // Last: the quantized weights that no int8 fusion took, dequantized once here rather than by
    // every run (level 1 kept them for FuseQdqProducts).
    passes.push_back(std::make_unique<FoldConstants>(cpu_level, FoldConstants::Mode::DequantizeOnly));
  }
  if (level == 3) {
    // After every fusion: NchwcConv takes FusedConv's residual and activation as they are, and a
    // fusion after it would not recognize the NCHWc ops. It changes the graph once; its second
    // round finds the graph laid out and stops.
    passes.push_back(std::make_unique<NchwcLayout>(kernels::nchwc_block(cpu_level)));
    // Reads the NCHWc convolutions the layout made.
    passes.push_back(std::make_unique<FuseNchwcPointwiseDepthwise>());
    // The int8 convolutions' layout: each between two Transposes, which the next two passes move
    // past residual additions and cancel between neighbours, round after round.
    passes.push_back(std::make_unique<QuantizedChannelsLast>());
    passes.push_back(std::make_unique<PushTransposesThroughQLinearAdd>());
    passes.push_back(std::make_unique<CancelTransposes>());
  }
  return passes;
}

// Generous: each productive round removes at least one node, and real graphs settle in two or three.
constexpr int kMaxRounds = 100;

void check_disabled_names(const std::vector<std::string>& disabled) {
  const std::vector<PassListing> known = list_passes();
  for (const std::string& name : disabled) {
    if (std::any_of(known.begin(), known.end(), [&](const PassListing& p) { return p.name == name; })) continue;
    std::string names;
    for (const PassListing& p : known) names += (names.empty() ? "" : ", ") + p.name;
    throw Error(ErrorCode::InvalidArgument, "no optimizer pass is named '" + name + "'; the passes are: " + names);
  }
}

}  // namespace

void import_kiln_domain(ir::Model& model) { model.opset_imports.emplace(kKilnDomain, 1); }

std::vector<PassListing> list_passes() {
  std::vector<PassListing> listing;
  for (int level = 1; level <= kMaxLevel; ++level)
    for (const auto& pass : passes_of_level(level, CpuLevel::Scalar)) listing.push_back({level, pass->name()});
  return listing;
}

std::vector<PassReport> optimize(ir::Model& model, const OptimizeOptions& options) {
  if (options.level < 0 || options.level > kMaxLevel)
    throw Error(ErrorCode::InvalidArgument,
                "optimization level must be 0 (none) to 3 (all), got " + std::to_string(options.level));
  check_disabled_names(options.disabled_passes);
  const auto& disabled = options.disabled_passes;
  std::vector<PassReport> reports;
  for (int level = 1; level <= options.level; ++level) {
    std::vector<std::unique_ptr<GraphPass>> passes = passes_of_level(level, options.cpu_level);
    std::erase_if(passes, [&](const auto& pass) {
      return std::find(disabled.begin(), disabled.end(), pass->name()) != disabled.end();
    });
    const size_t first = reports.size();
    for (const auto& pass : passes) reports.push_back({pass->name(), level});
    for (int round = 0; round < kMaxRounds; ++round) {
      // Levels 1 and 2 match on shapes, which each round's rewrites may have made more precise
      // (a Reshape target now constant) or left unrecorded (the values they created).
      if (level <= 2) {
        TraceSpan span(options.trace, "ShapeInference", "Optimizer");
        ops::infer_shapes(model);
        span.record("\"level\": " + std::to_string(level) + ", \"round\": " + std::to_string(round + 1));
      }
      bool changed = false;
      for (size_t i = 0; i < passes.size(); ++i) {
        PassReport& report = reports[first + i];
        const auto start = Trace::Clock::now();
        const int changes = passes[i]->run(model);
        const auto elapsed = Trace::Clock::now() - start;
        report.milliseconds += std::chrono::duration<double, std::milli>(elapsed).count();
        if (options.trace)
          options.trace->add({report.name, "Optimizer", start, elapsed, Trace::thread_id(),
                              "\"level\": " + std::to_string(level) + ", \"round\": " + std::to_string(round + 1) +
                                  ", \"changes\": " + std::to_string(changes)});
        ++report.rounds;
        report.changes += changes;
        changed = changed || changes > 0;
      }
      if (!changed) break;
    }
  }
  return reports;
}

}  // namespace kiln::passes
