// Einsum (opset 12): parses the equation once, resolves its labels against the operands' shapes on
// each run (ellipsis dims depend on ranks), and hands the label plan to kernels::compute_einsum.
// Ellipsis dims are right-aligned across operands and broadcast like numpy's; so do size-1 axes.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kernels/cpu/einsum_ref.h"
#include "ops/cpu/dispatch.h"
#include "ops/registry.h"

namespace kiln::ops {
namespace {

// One side of the equation for one tensor: its letters, and where "..." stands among them (-1: none).
struct Term {
  std::string letters;
  int64_t ellipsis_at = -1;
};

Term parse_term(const std::string& text) {
  Term term;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "...") == 0 && term.ellipsis_at < 0) {
      term.ellipsis_at = static_cast<int64_t>(term.letters.size());
      i += 2;
    } else if (std::isalpha(static_cast<unsigned char>(text[i]))) {
      term.letters += text[i];
    } else {
      throw Error(ErrorCode::InvalidModel, "equation term '" + text + "' holds something other than letters and one '...'");
    }
  }
  return term;
}

class EinsumKernel final : public OpKernel {
 public:
  explicit EinsumKernel(const KernelInfo& info) {
    std::string equation = info.attr_string("equation");
    equation.erase(std::remove_if(equation.begin(), equation.end(), [](unsigned char c) { return std::isspace(c); }),
                   equation.end());
    const size_t arrow = equation.find("->");
    const std::string inputs = equation.substr(0, arrow);
    for (size_t begin = 0;;) {
      const size_t comma = inputs.find(',', begin);
      input_terms_.push_back(parse_term(inputs.substr(begin, comma - begin)));
      if (comma == std::string::npos) break;
      begin = comma + 1;
    }
    if (arrow != std::string::npos) output_term_ = parse_term(equation.substr(arrow + 2));
  }

  void compute(KernelContext& ctx) const override {
    if (ctx.input_count() != input_terms_.size())
      throw Error(ErrorCode::InvalidModel, "the equation names " + std::to_string(input_terms_.size()) +
                                               " operands but the node has " + std::to_string(ctx.input_count()));
    const DType dtype = ctx.input(0).dtype();
    // Label names: letters as themselves, ellipsis dim e (counted from the right) as "0" + e.
    std::vector<std::vector<std::string>> axis_labels(input_terms_.size());
    size_t ellipsis_rank = 0;
    for (size_t k = 0; k < input_terms_.size(); ++k) {
      const Tensor& t = ctx.input(k);
      if (t.dtype() != dtype) throw Error(ErrorCode::InvalidModel, "operands have different dtypes");
      axis_labels[k] = expand_term(input_terms_[k], t.rank(), k);
      ellipsis_rank = std::max(ellipsis_rank, t.rank() - input_terms_[k].letters.size());
    }

    std::map<std::string, int64_t> sizes;  // label -> size, broadcasting 1s
    std::map<std::string, int> occurrences;
    for (size_t k = 0; k < axis_labels.size(); ++k) {
      for (size_t a = 0; a < axis_labels[k].size(); ++a) {
        const int64_t dim = ctx.input(k).dim(a);
        auto [it, inserted] = sizes.emplace(axis_labels[k][a], dim);
        if (!inserted && it->second != dim) {
          if (it->second != 1 && dim != 1)
            throw Error(ErrorCode::InvalidArgument, "label '" + it->first + "' has sizes " + std::to_string(it->second) +
                                                        " and " + std::to_string(dim));
          it->second = std::max(it->second, dim);
        }
        ++occurrences[axis_labels[k][a]];
      }
    }

    std::vector<std::string> order = output_labels(ellipsis_rank, occurrences);
    const size_t output_count = order.size();
    for (const auto& [label, size] : sizes)
      if (std::find(order.begin(), order.end(), label) == order.end()) order.push_back(label);

    std::vector<int64_t> label_sizes;
    Shape out_shape;
    for (size_t l = 0; l < order.size(); ++l) {
      const auto it = sizes.find(order[l]);
      if (it == sizes.end()) throw Error(ErrorCode::InvalidModel, "output label '" + order[l] + "' is not in any input");
      label_sizes.push_back(it->second);
      if (l < output_count) out_shape.push_back(it->second);
    }
    std::vector<std::vector<int64_t>> label_strides(axis_labels.size(), std::vector<int64_t>(order.size(), 0));
    for (size_t k = 0; k < axis_labels.size(); ++k) {
      const Shape& dims = ctx.input(k).shape();
      int64_t stride = 1;
      for (size_t a = dims.size(); a-- > 0;) {
        const size_t l = static_cast<size_t>(std::find(order.begin(), order.end(), axis_labels[k][a]) - order.begin());
        if (dims[a] == label_sizes[l]) label_strides[k][l] += stride;  // else a broadcast size-1 axis
        stride *= dims[a];
      }
    }

    Tensor& y = ctx.allocate_output(0, dtype, out_shape);
    dispatch_dtype<float, double, int32_t, int64_t>(dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::vector<const T*> operands;
      for (size_t k = 0; k < axis_labels.size(); ++k) operands.push_back(ctx.input(k).data<T>());
      kernels::compute_einsum<T>(operands, label_strides, label_sizes, output_count, y.data<T>());
    });
  }

 private:
  static std::string ellipsis_label(size_t from_right) { return std::to_string(from_right); }

  // The label of each axis of an operand of rank `rank` described by `term`.
  static std::vector<std::string> expand_term(const Term& term, size_t rank, size_t operand) {
    const size_t letters = term.letters.size();
    if (rank < letters || (term.ellipsis_at < 0 && rank != letters))
      throw Error(ErrorCode::InvalidArgument, "operand " + std::to_string(operand) + " has rank " + std::to_string(rank) +
                                                  " but its term names " + std::to_string(letters) + " axes");
    std::vector<std::string> labels;
    const auto before = static_cast<size_t>(term.ellipsis_at < 0 ? letters : term.ellipsis_at);
    for (size_t i = 0; i < before; ++i) labels.emplace_back(1, term.letters[i]);
    for (size_t e = rank - letters; e-- > 0;) labels.push_back(ellipsis_label(e));
    for (size_t i = before; i < letters; ++i) labels.emplace_back(1, term.letters[i]);
    return labels;
  }

  // Explicit output: its term. Implicit: the ellipsis dims, then the letters used once, sorted.
  std::vector<std::string> output_labels(size_t ellipsis_rank, const std::map<std::string, int>& occurrences) const {
    std::vector<std::string> labels;
    if (!output_term_) {
      for (size_t e = ellipsis_rank; e-- > 0;) labels.push_back(ellipsis_label(e));
      for (const auto& [label, count] : occurrences)
        if (count == 1 && std::isalpha(static_cast<unsigned char>(label[0]))) labels.push_back(label);
      return labels;
    }
    labels = expand_term(*output_term_, output_term_->letters.size() + (output_term_->ellipsis_at < 0 ? 0 : ellipsis_rank),
                         input_terms_.size());
    std::vector<std::string> sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw Error(ErrorCode::InvalidModel, "the output term repeats a label");
    return labels;
  }

  std::vector<Term> input_terms_;
  std::optional<Term> output_term_;
};

KILN_KERNEL(EinsumKernel, {.op = "Einsum", .since = 12, .types = types::kNumeric});

}  // namespace
}  // namespace kiln::ops
