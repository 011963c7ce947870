// Writes the seed corpora of the fuzz harnesses with fcnlab's own writers:
// make_seeds OUT creates OUT/<harness>/ for each harness.
#include "tiny_net.h"

#include "../csrc/data/detail/datum.h"
#include "../csrc/train/detail/snapshot.h"
#include "../csrc/util/detail/tar.h"

#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>
#include <fcnlab/data/palette.h>
#include <fcnlab/data/sbd.h>
#include <fcnlab/data/synthetic.h>
#include <fcnlab/io/model_file.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/train/solver_file.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

namespace fs = std::filesystem;
using namespace fcnlab;

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// A small random image, H x W x C uint8.
at::Tensor test_image(int64_t height, int64_t width, int64_t channels) {
  at::manual_seed(0);
  return at::randint(0, 256, {height, width, channels}, at::kByte);
}

at::Tensor test_label(int64_t height, int64_t width) {
  auto label = at::zeros({height, width}, at::kByte);
  label.slice(0, 2, 6).slice(1, 2, 6).fill_(15);
  label.slice(0, 1, 2).fill_(255);
  return label;
}

void image_seeds(const fs::path& dir) {
  write(dir / "color.jpg", data::encode_image(test_image(12, 9, 3), "jpg"));
  write(dir / "color.png", data::encode_image(test_image(7, 5, 3), "png"));
  write(dir / "gray.png", data::encode_image(test_image(6, 6, 1), "png"));
}

void label_seeds(const fs::path& dir) {
  const auto label = test_label(8, 8);
  write(
      dir / "paletted.png", data::encode_label_png(label, data::voc_palette()));
  write(dir / "gray.png", data::encode_image(label.unsqueeze(2), "png"));
  write(
      dir / "color.png",
      data::encode_image(
          data::colorize(label.clamp_max(20), data::voc_palette())
              .flip({2}), // RGB -> BGR for OpenCV
          "png"));
}

void datum_seeds(const fs::path& dir) {
  const auto image = test_image(6, 5, 3);
  write(dir / "raw", data::detail::encode_datum(image, ""));
  write(dir / "png", data::detail::encode_datum(image, "png"));
  write(dir / "jpg", data::detail::encode_datum(image, "jpg"));
  write(
      dir / "label_raw",
      data::detail::encode_datum(test_label(6, 6).unsqueeze(2), ""));
}

void network_seeds(
    const fs::path& prototxt_dir,
    const fs::path& caffemodel_dir,
    const fs::path& model_dir,
    const fs::path& snapshot_dir) {
  write(prototxt_dir / "tiny.prototxt", fuzz::kTinyNet);
  write(prototxt_dir / "tiny_fcn_train.prototxt", fuzz::kTinyFcnTrainNet);
  write(prototxt_dir / "tiny_v0.prototxt", fuzz::kTinyV0Net);
  write(prototxt_dir / "tiny_classifier.prototxt", fuzz::kTinyClassifier);
  for (const auto& name : models::builtin_net_names()) {
    write(
        prototxt_dir / (name + ".prototxt"),
        caffe::net_prototxt(models::builtin_net(name, 21)));
  }
  models::FcnNet tiny(caffe::parse_prototxt(fuzz::kTinyNet, "tiny"));
  caffe::save_caffemodel(tiny, (caffemodel_dir / "tiny.caffemodel").string());
  write(
      prototxt_dir / "tiny_deploy.prototxt",
      caffe::deploy_prototxt(tiny->spec(), 8, 8));
  io::save_model(tiny, (model_dir / "tiny.pt").string(), {"a", "b", "c"});
  train::Solver solver(train::trainable_parameters(tiny), {});
  train::detail::TrainingPosition position{1, 3, 7, 3, {}};
  position.history.push_back({});
  train::detail::write_snapshot(
      (snapshot_dir / "tiny.pt").string(), tiny, solver, position);
}

// DIGITS' legacy enum and step schedule, FCN's fixed rate, and every field
// fcnlab writes.
void solver_seeds(const fs::path& dir) {
  write(
      dir / "digits.prototxt",
      "test_iter: 3\ntest_interval: 12\nbase_lr: 0.0001\ndisplay: 2\n"
      "max_iter: 36\nlr_policy: \"step\"\ngamma: 0.1\nmomentum: 0.9\n"
      "weight_decay: 1e-06\nstepsize: 12\nsnapshot: 12\n"
      "snapshot_prefix: \"snapshot\"\nsolver_mode: GPU\n"
      "net: \"train_val.prototxt\"\nsolver_type: SGD\n");
  write(
      dir / "fcn.prototxt",
      "train_net: \"train.prototxt\"\ntest_net: \"val.prototxt\"\n"
      "test_iter: 736\ntest_interval: 999999999\ndisplay: 20\n"
      "average_loss: 20\nlr_policy: \"fixed\"\nbase_lr: 1e-14\n"
      "momentum: 0.99\niter_size: 1\nmax_iter: 100000\n"
      "weight_decay: 0.0005\nsnapshot: 4000\n"
      "snapshot_prefix: \"snapshot/train\"\ntest_initialization: false\n");
  train::SolverRun run;
  run.max_iter = 30;
  run.random_seed = 3;
  write(
      dir / "written.prototxt",
      train::solver_prototxt(
          train::SolverOptions()
              .type(train::SolverType::kAdam)
              .lr_policy(train::LrPolicy::kMultiStep)
              .step_values({10, 20})
              .momentum(0.9),
          run));
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds OUT\n";
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* harness :
       {"caffemodel",
        "prototxt",
        "datum",
        "label",
        "image",
        "tar",
        "model_file",
        "snapshot",
        "mat",
        "solver"}) {
    fs::create_directories(out / harness);
  }
  data::write_sbd_label((out / "mat" / "cls.mat").string(), test_label(6, 9));
  solver_seeds(out / "solver");
  image_seeds(out / "image");
  label_seeds(out / "label");
  datum_seeds(out / "datum");
  network_seeds(
      out / "prototxt",
      out / "caffemodel",
      out / "model_file",
      out / "snapshot");
  {
    util::detail::TarWriter tar((out / "tar" / "voc.tar").string());
    tar.add("VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt", "a\n");
    tar.add(
        "VOCdevkit/VOC2012/JPEGImages/a.jpg",
        data::encode_image(test_image(4, 4, 3), "jpg"));
    tar.add(
        "VOCdevkit/VOC2012/SegmentationClass/a.png",
        data::encode_label_png(test_label(4, 4), data::voc_palette()));
    tar.close();
  }
  data::write_synthetic_voc(
      (out / "tar" / "synthetic.tar").string(),
      data::SynthVocOptions().images(2).max_side(16));
  std::cout << "seeds written to " << out.string() << "\n";
  return 0;
}
