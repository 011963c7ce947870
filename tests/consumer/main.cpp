// A program outside the fcnlab tree, built against the installed package.
#include <fcnlab/fcnlab.h>

#include <torch/torch.h>

#include <iostream>

int main() {
  torch::NoGradGuard no_grad;
  fcnlab::models::FcnAlexNet net(fcnlab::models::FcnAlexNetOptions(5));
  net->eval();
  const auto scores = net->forward(torch::rand({1, 3, 7, 9}) * 255);
  std::cout << "scores " << scores.size(1) << "x" << scores.size(2) << "x"
            << scores.size(3) << " crop " << net->crop_offset() << "\n";
  return scores.sizes() == torch::IntArrayRef({1, 5, 7, 9}) ? 0 : 1;
}
