#include "interrupts.h"

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace fcnlab {
namespace tools {
namespace {

train::Trainer* active_trainer = nullptr;
#ifdef FCNLAB_HAS_SERVE
serve::Server* active_server = nullptr;
#endif
volatile std::sig_atomic_t interrupts = 0;

void on_interrupt(int signal) {
  if (++interrupts > 1) {
    std::_Exit(128 + signal);
  }
  if (active_trainer) {
    active_trainer->request_stop();
  }
#ifdef FCNLAB_HAS_SERVE
  if (active_server) {
    active_server->request_stop();
  }
#endif
}

// Restores the default handlers however train() ends.
struct InterruptScope {
  InterruptScope() {
    interrupts = 0;
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
  }
  ~InterruptScope() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    active_trainer = nullptr;
#ifdef FCNLAB_HAS_SERVE
    active_server = nullptr;
#endif
  }
};

} // namespace

std::string train_until_interrupted(train::Trainer& trainer) {
  active_trainer = &trainer;
  const InterruptScope scope;
  return trainer.train();
}

#ifdef FCNLAB_HAS_SERVE
void serve_until_interrupted(serve::Server& server) {
  active_server = &server;
  const InterruptScope scope;
  server.wait();
}
#endif

void print_job_summary(const train::Trainer& trainer) {
  if (trainer.world_size() > 1) {
    std::cout << "job: " << trainer.world_size() << " ranks, gradients over "
              << trainer.gradient_backend() << "; rank 0 spent "
              << trainer.communication_seconds() << " s averaging gradients\n";
  }
}

} // namespace tools
} // namespace fcnlab
