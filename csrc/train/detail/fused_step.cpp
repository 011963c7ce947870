#include "fused_step.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

// Elements per task, ATen's grain for elementwise operations.
constexpr int64_t kGrain = 32768;

bool two_histories(SolverType type) {
  return type == SolverType::kAdaDelta || type == SolverType::kAdam;
}

bool fusable(
    const at::Tensor& w,
    const at::Tensor& g,
    const at::Tensor& h,
    const at::Tensor& h2,
    SolverType type) {
  std::vector<const at::Tensor*> tensors = {&w, &g, &h};
  if (two_histories(type)) {
    tensors.push_back(&h2);
  }
  for (const auto* t : tensors) {
    if (!t->defined() || !t->device().is_cpu() || !t->is_contiguous() ||
        t->scalar_type() != w.scalar_type() || t->numel() != w.numel()) {
      return false;
    }
  }
  return w.scalar_type() == at::kFloat || w.scalar_type() == at::kDouble;
}

// The complements 1 - x are taken in double: in float, 1 - 0.999f is off
// by 1.3e-5 relative.
template <typename T>
struct Coefficients {
  T lr, grad_scale, decay, delta;
  T momentum, rest_of_momentum; ///< mu, 1 - mu
  T momentum2, rest_of_momentum2;
  T rms_decay, rest_of_rms_decay;
  T adam_rate;               ///< lr with Adam's bias correction
  T lr_grad_scale, lr_decay; ///< lr x grad_scale, lr x decay
};

template <typename T>
struct Pointers {
  T* w;
  T* g;
  T* h;
  T* h2; ///< null unless AdaDelta or Adam
};

// The update of elements [begin, end): each is read and written once.
// Taken by value: the compiler then knows that stores through the pointers
// leave the coefficients alone, and keeps them in registers.
template <typename T, SolverType Type, bool L1>
void update_range(
    const Pointers<T> p,
    const Coefficients<T> c,
    int64_t begin,
    int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const T weight = p.w[i];
    const T sign = static_cast<T>((weight > 0) - (weight < 0));
    const T regularizer = L1 ? sign : weight;
    const T summed = p.g[i];
    p.g[i] = 0;
    if constexpr (Type == SolverType::kSgd || Type == SolverType::kNesterov) {
      // h' = mu h + lr g, with lr g as lr / iter_size G + lr decay w: the
      // rounding of earlier releases, so that their runs repeat exactly.
      const T old = p.h[i];
      T now = c.momentum * old + c.lr_grad_scale * summed;
      if (c.decay != 0) {
        now += c.lr_decay * regularizer;
      }
      p.h[i] = now;
      p.w[i] = Type == SolverType::kSgd
          ? weight - now
          : weight - ((1 + c.momentum) * now - c.momentum * old);
      continue;
    }
    // g = G / iter_size + decay (w or sign(w)).
    T grad = c.grad_scale * summed;
    if (c.decay != 0) {
      grad += c.decay * regularizer;
    }
    if constexpr (Type == SolverType::kAdaGrad) {
      const T sum = p.h[i] + grad * grad;
      p.h[i] = sum;
      p.w[i] = weight - c.lr * grad / (std::sqrt(sum) + c.delta);
    } else if constexpr (Type == SolverType::kRmsProp) {
      const T mean = c.rms_decay * p.h[i] + c.rest_of_rms_decay * grad * grad;
      p.h[i] = mean;
      p.w[i] = weight - c.lr * grad / (std::sqrt(mean) + c.delta);
    } else if constexpr (Type == SolverType::kAdaDelta) {
      const T mean = c.momentum * p.h[i] + c.rest_of_momentum * grad * grad;
      p.h[i] = mean;
      const T u = grad * std::sqrt((p.h2[i] + c.delta) / (mean + c.delta));
      p.h2[i] = c.momentum * p.h2[i] + c.rest_of_momentum * u * u;
      p.w[i] = weight - c.lr * u;
    } else if constexpr (Type == SolverType::kAdam) {
      const T m = c.momentum * p.h[i] + c.rest_of_momentum * grad;
      const T v = c.momentum2 * p.h2[i] + c.rest_of_momentum2 * grad * grad;
      p.h[i] = m;
      p.h2[i] = v;
      p.w[i] = weight - c.adam_rate * m / (std::sqrt(v) + c.delta);
    }
  }
}

template <typename T, SolverType Type>
void update(
    const Pointers<T>& p,
    const Coefficients<T>& c,
    int64_t n,
    bool l1) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    if (l1) {
      update_range<T, Type, true>(p, c, begin, end);
    } else {
      update_range<T, Type, false>(p, c, begin, end);
    }
  });
}

template <typename T>
void update(
    const at::Tensor& w,
    const at::Tensor& g,
    const at::Tensor& h,
    const at::Tensor& h2,
    const FusedStep& step) {
  const double t = static_cast<double>(step.iteration + 1);
  const double adam_correction = std::sqrt(1 - std::pow(step.momentum2, t)) /
      (1 - std::pow(step.momentum, t));
  const Coefficients<T> c{
      static_cast<T>(step.lr),
      static_cast<T>(step.grad_scale),
      static_cast<T>(step.decay),
      static_cast<T>(step.delta),
      static_cast<T>(step.momentum),
      static_cast<T>(1 - step.momentum),
      static_cast<T>(step.momentum2),
      static_cast<T>(1 - step.momentum2),
      static_cast<T>(step.rms_decay),
      static_cast<T>(1 - step.rms_decay),
      static_cast<T>(step.lr * adam_correction),
      static_cast<T>(step.lr * step.grad_scale),
      static_cast<T>(step.lr * step.decay)};
  const Pointers<T> p{
      w.data_ptr<T>(),
      g.data_ptr<T>(),
      h.data_ptr<T>(),
      two_histories(step.type) ? h2.data_ptr<T>() : nullptr};
  const int64_t n = w.numel();
  switch (step.type) {
    case SolverType::kSgd:
      return update<T, SolverType::kSgd>(p, c, n, step.l1);
    case SolverType::kNesterov:
      return update<T, SolverType::kNesterov>(p, c, n, step.l1);
    case SolverType::kAdaGrad:
      return update<T, SolverType::kAdaGrad>(p, c, n, step.l1);
    case SolverType::kRmsProp:
      return update<T, SolverType::kRmsProp>(p, c, n, step.l1);
    case SolverType::kAdaDelta:
      return update<T, SolverType::kAdaDelta>(p, c, n, step.l1);
    case SolverType::kAdam:
      return update<T, SolverType::kAdam>(p, c, n, step.l1);
  }
}

} // namespace

bool fused_step(
    const at::Tensor& w,
    const at::Tensor& g,
    const at::Tensor& h,
    const at::Tensor& h2,
    const FusedStep& step) {
  if (!fusable(w, g, h, h2, step.type)) {
    return false;
  }
  if (w.scalar_type() == at::kFloat) {
    update<float>(w, g, h, h2, step);
  } else {
    update<double>(w, g, h, h2, step);
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
