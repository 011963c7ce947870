#include "gradient_buckets.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/variable.h>

namespace fcnlab {
namespace train {
namespace detail {

GradientBuckets::GradientBuckets(
    std::vector<at::Tensor> parameters,
    std::shared_ptr<Communicator> communicator,
    int64_t bucket_bytes)
    : communicator_(std::move(communicator)) {
  // Fixed parameters (lr_mult 0) have no gradient to share.
  for (auto& parameter : parameters) {
    if (parameter.requires_grad()) {
      parameters_.push_back(parameter);
    }
  }
  bucket_of_.resize(parameters_.size());
  offset_of_.resize(parameters_.size());
  filled_.assign(parameters_.size(), false);
  lay_out(bucket_bytes);
}

void GradientBuckets::lay_out(int64_t bucket_bytes) {
  int64_t bytes = 0;
  for (size_t i = parameters_.size(); i-- > 0;) {
    const int64_t size =
        parameters_[i].numel() * int64_t(parameters_[i].element_size());
    if (buckets_.empty() || bytes + size > bucket_bytes) {
      buckets_.emplace_back();
      bytes = 0;
    }
    buckets_.back().push_back(i);
    bytes += size;
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    int64_t offset = 0;
    for (const size_t i : buckets_[b]) {
      bucket_of_[i] = b;
      offset_of_[i] = offset;
      offset += parameters_[i].numel();
    }
  }
  missing_.resize(buckets_.size());
  for (size_t i = 0; i < parameters_.size(); ++i) {
    hooks_.push_back(parameters_[i].register_hook(
        [this, i](const at::Tensor& grad) { on_gradient(i, grad); }));
  }
}

// The parameters outlive this object (the model trains on, or a next
// Trainer takes it): their hooks must not call into it any more.
GradientBuckets::~GradientBuckets() {
  for (size_t i = 0; i < hooks_.size(); ++i) {
    parameters_[i].remove_hook(hooks_[i]);
  }
}

void GradientBuckets::allocate() {
  if (!flat_.empty()) {
    return;
  }
  for (const auto& bucket : buckets_) {
    int64_t count = 0;
    for (const size_t i : bucket) {
      count += parameters_[i].numel();
    }
    flat_.push_back(at::empty({count}, parameters_[bucket[0]].options()));
  }
}

void GradientBuckets::arm() {
  std::lock_guard<std::mutex> lock(mutex_);
  allocate();
  armed_ = true;
  std::fill(filled_.begin(), filled_.end(), false);
  for (size_t b = 0; b < buckets_.size(); ++b) {
    missing_[b] = buckets_[b].size();
  }
  next_start_ = 0;
}

void GradientBuckets::fill_slot(size_t i) {
  auto slot =
      flat_[bucket_of_[i]].narrow(0, offset_of_[i], parameters_[i].numel());
  const auto& grad = parameters_[i].grad();
  if (grad.defined()) {
    slot.copy_(grad.reshape({-1}));
  } else {
    slot.zero_(); // unused on this rank: contributes nothing
  }
}

void GradientBuckets::on_gradient(size_t i, const at::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_ || filled_[i]) {
    return;
  }
  auto slot =
      flat_[bucket_of_[i]].narrow(0, offset_of_[i], parameters_[i].numel());
  const auto& accumulated = parameters_[i].grad();
  if (accumulated.defined()) {
    at::add_out(slot, accumulated.reshape({-1}), grad.reshape({-1}));
  } else {
    slot.copy_(grad.reshape({-1}));
  }
  filled_[i] = true;
  --missing_[bucket_of_[i]];
  start_ready_buckets();
}

void GradientBuckets::start_ready_buckets() {
  while (next_start_ < buckets_.size() && missing_[next_start_] == 0) {
    communicator_->start_all_reduce_sum(flat_[next_start_]);
    ++next_start_;
  }
}

void GradientBuckets::average(at::Tensor& flags, const std::string& what) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!armed_) { // everything after backward
      allocate();
      std::fill(filled_.begin(), filled_.end(), false);
      std::fill(missing_.begin(), missing_.end(), 1);
      next_start_ = 0;
    }
    // Parameters whose hook did not run (no gradient in the last pass).
    for (size_t i = 0; i < parameters_.size(); ++i) {
      if (!filled_[i]) {
        fill_slot(i);
      }
    }
    std::fill(missing_.begin(), missing_.end(), 0);
    start_ready_buckets();
    communicator_->start_all_reduce_sum(flags);
    armed_ = false;
  }
  communicator_->wait_all(what);
  const double scale = 1.0 / double(communicator_->world_size());
  for (size_t i = 0; i < parameters_.size(); ++i) {
    auto& parameter = parameters_[i];
    if (!parameter.grad().defined()) {
      parameter.mutable_grad() = at::zeros_like(parameter);
    }
    parameter.grad().copy_(flat_[bucket_of_[i]]
                               .narrow(0, offset_of_[i], parameter.numel())
                               .view(parameter.sizes()));
    parameter.grad().mul_(scale);
  }
}

} // namespace detail
} // namespace train
} // namespace fcnlab
