#include "momentum_step.h"

#include <ATen/Parallel.h>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

// Elements per task, ATen's grain for elementwise operations.
constexpr int64_t kGrain = 32768;

bool fusable(const at::Tensor& w, const at::Tensor& g, const at::Tensor& h) {
  for (const auto* t : {&w, &g, &h}) {
    if (!t->defined() || !t->device().is_cpu() || !t->is_contiguous() ||
        t->scalar_type() != w.scalar_type() || t->numel() != w.numel()) {
      return false;
    }
  }
  return w.scalar_type() == at::kFloat || w.scalar_type() == at::kDouble;
}

template <typename T, bool Nesterov>
void apply(T* w, T* g, T* h, int64_t n, const MomentumStep& step) {
  const T mu = static_cast<T>(step.momentum);
  const T a = static_cast<T>(step.grad_scale);
  const T d = static_cast<T>(step.decay_scale);
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T old = h[i];
      const T now = mu * old + a * g[i] + d * w[i];
      h[i] = now;
      w[i] -= Nesterov ? (1 + mu) * now - mu * old : now;
      g[i] = 0;
    }
  });
}

template <typename T>
void apply(
    const at::Tensor& w,
    const at::Tensor& g,
    const at::Tensor& h,
    const MomentumStep& step) {
  auto* wp = w.data_ptr<T>();
  auto* gp = g.data_ptr<T>();
  auto* hp = h.data_ptr<T>();
  if (step.nesterov) {
    apply<T, true>(wp, gp, hp, w.numel(), step);
  } else {
    apply<T, false>(wp, gp, hp, w.numel(), step);
  }
}

} // namespace

bool fused_momentum_step(
    const at::Tensor& w,
    const at::Tensor& g,
    const at::Tensor& h,
    const MomentumStep& step) {
  if (!fusable(w, g, h)) {
    return false;
  }
  if (w.scalar_type() == at::kFloat) {
    apply<float>(w, g, h, step);
  } else {
    apply<double>(w, g, h, step);
  }
  // Written through data pointers: tell autograd's version check that the
  // tensors changed, as ATen's in-place operations would.
  w.unsafeGetTensorImpl()->bump_version();
  g.unsafeGetTensorImpl()->bump_version();
  return true;
}

} // namespace detail
} // namespace train
} // namespace fcnlab
