// Times OpenCV's dnn module running fcnlab's exported FCN-Alexnet, or FCN-8s
// (V2 caffemodel + deploy prototxt) at batch 1 and prints JSON:
//   opencv_bench HEIGHT WIDTH ITERATIONS THREADS SCRATCH_DIR [fcn8s]
// Also reports how far OpenCV's scores are from fcnlab's for the same input,
// and leaves the same network's fixed-size ONNX export in SCRATCH_DIR
// ("onnx" in the JSON) for bench/run.py's ONNX Runtime peer.
#include <fcnlab/caffe/exporter.h>
#include <fcnlab/deploy/onnx_export.h>

#include "networks.h"
#include "timing.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 6 && !(argc == 7 && std::string(argv[6]) == "fcn8s")) {
    std::fprintf(
        stderr,
        "usage: %s HEIGHT WIDTH ITERATIONS THREADS SCRATCH_DIR [fcn8s]\n",
        argv[0]);
    return 2;
  }
  const int height = std::atoi(argv[1]);
  const int width = std::atoi(argv[2]);
  const int iterations = std::atoi(argv[3]);
  const int threads = std::atoi(argv[4]);
  const std::string dir = argv[5];
  cv::setNumThreads(threads);
  torch::set_num_threads(threads);

  auto model = fcnlab::bench::benchmark_network(argc == 7 ? argv[6] : "");
  model->eval();
  const std::string caffemodel =
      dir + "/" + model->spec().source + ".caffemodel";
  const std::string prototxt = dir + "/deploy.prototxt";
  fcnlab::caffe::save_caffemodel(model, caffemodel);
  fcnlab::caffe::write_deploy_prototxt(model->spec(), prototxt, height, width);
  fcnlab::deploy::OnnxExportOptions onnx_options;
  onnx_options.height = height;
  onnx_options.width = width;
  const std::string onnx =
      fcnlab::deploy::export_onnx(
          model, dir + "/" + model->spec().source + ".onnx", onnx_options)
          .path;

  cv::dnn::Net net = cv::dnn::readNetFromCaffe(prototxt, caffemodel);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  const auto image = (torch::rand({1, 3, height, width}) * 255).contiguous();
  const int dims[] = {1, 3, height, width};
  const cv::Mat blob(4, dims, CV_32F, image.data_ptr<float>());

  cv::Mat scores;
  const auto times = fcnlab::bench::time_calls(iterations, [&] {
    net.setInput(blob, "data");
    scores = net.forward("score");
  });
  const auto theirs = torch::from_blob(
      scores.ptr<float>(), {1, model->num_classes(), height, width});
  torch::NoGradGuard no_grad;
  const auto ours = model->forward(image);
  const double difference = (ours - theirs).abs().max().item<double>() /
      ours.abs().max().item<double>();
  std::printf(
      "{\"median_ms\": %.3f, \"min_ms\": %.3f, \"threads\": %d, "
      "\"relative_difference\": %.3g, \"onnx\": \"%s\"}\n",
      fcnlab::bench::median(times),
      times.front(),
      cv::getNumThreads(),
      difference,
      onnx.c_str());
  return 0;
}
