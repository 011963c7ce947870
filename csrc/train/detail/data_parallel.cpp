#include "data_parallel.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <sstream>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

// The first rank whose text differs from rank 0's; 0 when all agree.
size_t first_rank_unlike_rank_0(const std::vector<std::string>& texts) {
  for (size_t r = 1; r < texts.size(); ++r) {
    if (texts[r] != texts[0]) {
      return r;
    }
  }
  return 0;
}

} // namespace

DataParallel::DataParallel(
    const std::optional<JobEnvironment>& job,
    std::chrono::milliseconds timeout,
    CudaBackend cuda_backend) {
  if (job && job->world_size > 1) {
    communicator_ = Communicator::connect(*job, timeout, cuda_backend);
  }
}

// The buckets' hooks go before the communicator they use.
DataParallel::~DataParallel() {
  buckets_.reset();
}

int64_t DataParallel::rank() const {
  return communicator_ ? communicator_->rank() : 0;
}

int64_t DataParallel::world_size() const {
  return communicator_ ? communicator_->world_size() : 1;
}

std::string DataParallel::backend_for(const c10::Device& device) const {
  return communicator_ ? communicator_->backend_for(device) : "";
}

void DataParallel::check_setup(const std::string& setup) {
  if (!communicator_) {
    return;
  }
  const auto texts =
      communicator_->all_gather_text(setup, "comparing the ranks' setup");
  const size_t other = first_rank_unlike_rank_0(texts);
  TORCH_CHECK(
      other == 0,
      "the ranks of the job disagree: rank 0 has ",
      texts[0],
      "; rank ",
      other,
      " has ",
      texts[other]);
}

void DataParallel::track_gradients(
    std::vector<at::Tensor> parameters,
    bool overlap) {
  if (!communicator_) {
    return;
  }
  buckets_ =
      std::make_unique<GradientBuckets>(std::move(parameters), communicator_);
  overlap_ = overlap;
}

void DataParallel::broadcast_parameters(const models::FcnNet& model) {
  if (!communicator_) {
    return;
  }
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> tensors;
  for (const auto& parameter : model->parameters()) {
    tensors.push_back(parameter);
  }
  for (const auto& buffer : model->buffers()) {
    tensors.push_back(buffer);
  }
  communicator_->broadcast(tensors, 0, "sharing rank 0's parameters");
  check_parameters_agree(model, "after the broadcast");
}

void DataParallel::check_parameters_agree(
    const models::FcnNet& model,
    const std::string& when) {
  torch::NoGradGuard no_grad;
  // The same bits everywhere: sums of every tensor, compared as text.
  std::ostringstream sums;
  sums.precision(17);
  for (const auto& parameter : model->parameters()) {
    sums << parameter.to(at::kDouble).sum().item<double>() << " ";
  }
  const auto texts = communicator_->all_gather_text(
      sums.str(), "comparing the ranks' parameters");
  const size_t other = first_rank_unlike_rank_0(texts);
  TORCH_CHECK(
      other == 0, "rank ", other, "'s parameters differ from rank 0's ", when);
}

std::vector<double> DataParallel::sum(
    std::vector<double> values,
    const std::string& what) {
  if (!communicator_) {
    return values;
  }
  auto tensor = at::tensor(values, at::kDouble);
  sum_in_place(tensor, what);
  return std::vector<double>(
      tensor.data_ptr<double>(), tensor.data_ptr<double>() + tensor.numel());
}

void DataParallel::sum_in_place(at::Tensor& tensor, const std::string& what) {
  if (!communicator_) {
    return;
  }
  std::vector<at::Tensor> tensors{tensor};
  communicator_->all_reduce_sum(tensors, what);
}

bool DataParallel::any(bool wanted, const std::string& what) {
  return sum({wanted ? 1.0 : 0.0}, what)[0] > 0;
}

void DataParallel::expect_last_backward() {
  if (buckets_ && overlap_) {
    buckets_->arm();
  }
}

UpdateVote DataParallel::average_gradients(
    bool diverged,
    bool stop,
    int64_t iteration) {
  UpdateVote vote;
  if (!communicator_) {
    return vote;
  }
  // Summed with the gradients: [0] a stop asked for, [1 + r] rank r's loss
  // was not finite.
  auto votes = at::zeros({1 + world_size()}, at::kFloat);
  votes[0] = stop ? 1 : 0;
  votes[1 + rank()] = diverged ? 1 : 0;
  const auto start = Clock::now();
  buckets_->average(
      votes,
      "averaging the gradients of iteration " + std::to_string(iteration));
  communication_seconds_ +=
      std::chrono::duration<double>(Clock::now() - start).count();
  const auto* sums = votes.data_ptr<float>();
  vote.stop = sums[0] > 0;
  for (int64_t r = 0; r < world_size(); ++r) {
    if (sums[1 + r] > 0) {
      vote.diverged_ranks.push_back(r);
    }
  }
  return vote;
}

void DataParallel::share_statistics(const models::FcnNet& model) {
  if (!communicator_) {
    return;
  }
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> statistics;
  for (const auto& parameter : model->parameters()) {
    if (!parameter.requires_grad()) {
      statistics.push_back(parameter);
    }
  }
  if (!statistics.empty()) {
    communicator_->broadcast(statistics, 0, "sharing rank 0's statistics");
  }
}

void DataParallel::finish(const models::FcnNet& model) {
  if (!communicator_) {
    return;
  }
  share_statistics(model);
  check_parameters_agree(model, "at the end of training");
  // Rank 0's last files are complete when any rank returns.
  communicator_->barrier("finishing");
}

} // namespace detail
} // namespace train
} // namespace fcnlab
