#include <fcnlab/caffe/importer.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/data/image_io.h>
#include <fcnlab/io/model_file.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/solver_file.h>
#include <fcnlab/util/device.h>

#include "caffe_fixtures.h"
#include "cli_runner.h"
#include "prototxt_fixtures.h"
#include "seeded_test.h"

#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fcnlab {
namespace {

using testing::CliRun;
using testing::contains;
using testing::run_cli;

using CliTest = testing::SeededTest;

TEST_F(CliTest, HelpListsTheSubcommands) {
  const CliRun run = run_cli("--help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(contains(run.output, "surgery"));
  EXPECT_TRUE(contains(run.output, "summary"));
}

TEST_F(CliTest, SummaryAt375x500) {
  const CliRun run = run_cli("summary --input 375x500");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "pool5     Pooling        256x17x21"));
  EXPECT_TRUE(contains(run.output, "upscore   Deconvolution  21x415x543"));
  EXPECT_TRUE(contains(run.output, "learnable parameters: 56,954,261"));
  EXPECT_TRUE(contains(run.output, "crop score: offset 18"));
}

TEST_F(CliTest, NetworksAsPrototxtAndSummary) {
  const CliRun network = run_cli("network fcn8s --num-classes 5");
  ASSERT_EQ(network.exit_code, 0) << network.output;
  EXPECT_TRUE(contains(network.output, "name: \"upscore8\""));
  EXPECT_TRUE(contains(network.output, "offset: 31"));
  EXPECT_TRUE(contains(network.output, "num_output: 5"));

  const CliRun summary = run_cli("summary --network fcn8s --input 500x500");
  ASSERT_EQ(summary.exit_code, 0) << summary.output;
  EXPECT_TRUE(
      contains(summary.output, "upscore8       Deconvolution  21x568x568"));
  EXPECT_TRUE(contains(summary.output, "crop score_pool4c: offset 5"));
  EXPECT_TRUE(contains(summary.output, "crop score_pool3c: offset 9"));

  const CliRun unknown = run_cli("network fcn4s");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_TRUE(contains(unknown.output, "prototxt: cannot open fcn4s"))
      << unknown.output;
}

TEST_F(CliTest, NumericFlagsAreRangeChecked) {
  for (const auto& [flags, named] :
       std::vector<std::pair<std::string, std::string>>{
           {"train voc --lr -1", "--lr"},
           {"train voc --lr 0", "--lr"},
           {"train voc --momentum 1", "--momentum"},
           {"train voc --epochs 0", "--epochs"},
           {"train voc --iter-size -2", "--iter-size"},
           {"train voc --weight-decay -0.1", "--weight-decay"},
           {"train voc --dropout 1.5", "--dropout"},
           {"train voc --amp half", "--amp"},
           {"train voc --solver lbfgs", "--solver"},
           {"train voc --rms-decay 1", "--rms-decay"},
           {"train voc --momentum2 -0.5", "--momentum2"},
           {"train voc --delta 0", "--delta"},
           {"train voc --regularization L3", "--regularization"},
           {"train voc --lr-policy cosine", "--lr-policy"},
           {"train voc --rotate 400", "--rotate"},
           {"train voc --hue 200", "--hue"},
           {"train voc --saturation 2", "--saturation"},
           {"train voc --noise -1", "--noise"},
           {"train voc --dist-backend mpi", "--dist-backend"},
           {"summary --num-classes 0", "--num-classes"},
           {"synth-voc x.tar --images 0", "--images"},
           {"synth-voc x.tar --val-fraction 2", "--val-fraction"}}) {
    const CliRun run = run_cli(flags);
    EXPECT_NE(run.exit_code, 0) << flags;
    EXPECT_TRUE(contains(run.output, named)) << flags << ": " << run.output;
  }
}

TEST_F(CliTest, BadSizeIsRejected) {
  const CliRun run = run_cli("summary --input 375by500");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_TRUE(contains(run.output, "expected HEIGHTxWIDTH")) << run.output;
}

TEST_F(CliTest, SurgeryToCaffemodelAndToModelFile) {
  testing::write_alexnet_v1(
      testing::random_alexnet(3), path("alexnet.caffemodel"));

  const CliRun to_caffe = run_cli(
      "surgery " + path("alexnet.caffemodel") + " " + path("fcn.caffemodel"));
  ASSERT_EQ(to_caffe.exit_code, 0) << to_caffe.output;
  EXPECT_TRUE(contains(to_caffe.output, "reshaped         fc6"));
  EXPECT_TRUE(contains(to_caffe.output, "dropped          fc8"));
  EXPECT_TRUE(std::filesystem::exists(path("fcn.caffemodel")));
  EXPECT_TRUE(std::filesystem::exists(path("fcn.prototxt")));

  const CliRun summary = run_cli("summary --weights " + path("fcn.caffemodel"));
  ASSERT_EQ(summary.exit_code, 0) << summary.output;
  EXPECT_TRUE(contains(summary.output, "copied           fc6"));

  const CliRun to_model = run_cli(
      "surgery --num-classes 5 " + path("alexnet.caffemodel") + " " +
      path("fcn.pt"));
  ASSERT_EQ(to_model.exit_code, 0) << to_model.output;
  EXPECT_EQ(io::load_model(path("fcn.pt")).model->num_classes(), 5);
}

TEST_F(CliTest, ExportsAModelFileForCaffeAndOnnx) {
  testing::write_alexnet_v1(
      testing::random_alexnet(3), path("alexnet.caffemodel"));
  ASSERT_EQ(
      run_cli(
          "surgery --num-classes 5 " + path("alexnet.caffemodel") + " " +
          path("fcn.pt"))
          .exit_code,
      0);

  const CliRun bad = run_cli(
      "export " + path("fcn.pt") + " " + path("fcn.bin") + " --input 90x120");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(contains(bad.output, "fcn.bin: export writes .onnx"))
      << bad.output;
  EXPECT_FALSE(std::filesystem::exists(path("fcn.bin")));
  const CliRun segnet_any_size = run_cli(
      "export " + path("fcn.pt") + " " + path("segnet.onnx") + " --segnet");
  EXPECT_NE(segnet_any_size.exit_code, 0);
  EXPECT_TRUE(contains(segnet_any_size.output, "--input HxW"))
      << segnet_any_size.output;
  const CliRun onnx_flags_for_caffe = run_cli(
      "export " + path("fcn.pt") + " " + path("x.caffemodel") +
      " --output classes");
  EXPECT_NE(onnx_flags_for_caffe.exit_code, 0);
  EXPECT_TRUE(contains(onnx_flags_for_caffe.output, "apply to an .onnx"))
      << onnx_flags_for_caffe.output;

  const CliRun onnx = run_cli(
      "export " + path("fcn.pt") + " " + path("fcn.onnx") +
      " --input 90x120 --output classes --opset 11");
  ASSERT_EQ(onnx.exit_code, 0) << onnx.output;
  EXPECT_TRUE(contains(onnx.output, "ONNX opset 11, 90x120 input"))
      << onnx.output;
  EXPECT_TRUE(contains(onnx.output, "BGR channel order, values 0-255"))
      << onnx.output;
  EXPECT_TRUE(contains(onnx.output, "classes: the class of each pixel"))
      << onnx.output;
  EXPECT_GT(std::filesystem::file_size(path("fcn.onnx")), 4 * 1000 * 1000)
      << "the weights are in the file";
  std::ofstream(path("notes.txt")) << "not a model";
  const CliRun not_a_model =
      run_cli("export " + path("notes.txt") + " " + path("notes.caffemodel"));
  EXPECT_NE(not_a_model.exit_code, 0);
  EXPECT_TRUE(contains(not_a_model.output, "notes.txt")) << not_a_model.output;
  EXPECT_FALSE(std::filesystem::exists(path("notes.caffemodel")));

  const CliRun run = run_cli(
      "export " + path("fcn.pt") + " " + path("fcn.caffemodel") +
      " --input 90x120");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "fcn.prototxt")) << run.output;
  std::ifstream prototxt(path("fcn.prototxt"));
  const std::string text(
      (std::istreambuf_iterator<char>(prototxt)),
      std::istreambuf_iterator<char>());
  EXPECT_TRUE(contains(text, "dim: 90\n")) << text;
  EXPECT_TRUE(contains(text, "dim: 120\n")) << text;

  // The exported weights are the model file's.
  const auto original = io::load_model(path("fcn.pt")).model;
  models::FcnAlexNet copy(models::FcnAlexNetOptions(5));
  caffe::load_caffemodel(copy, path("fcn.caffemodel"));
  for (const auto& pair : original->named_parameters()) {
    EXPECT_TRUE(pair.value().equal(copy->named_parameters()[pair.key()]))
        << pair.key();
  }
}

TEST_F(CliTest, SurgeryOnAMissingFileFails) {
  const CliRun run = run_cli(
      "surgery " + path("missing.caffemodel") + " " + path("out.caffemodel"));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(contains(
      run.output,
      "error: caffemodel: cannot open " + path("missing.caffemodel")))
      << run.output;
  EXPECT_FALSE(std::filesystem::exists(path("out.caffemodel")));
}

TEST_F(CliTest, DataWorkflowFromSyntheticArchiveToMontage) {
  const CliRun synth = run_cli(
      "synth-voc " + path("voc.tar") + " --images 8 --max-side 64 --seed 2");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  const CliRun prepare =
      run_cli("prepare-voc " + path("voc.tar") + " " + path("voc"));
  ASSERT_EQ(prepare.exit_code, 0) << prepare.output;
  EXPECT_TRUE(contains(prepare.output, "6 train, 2 val images"));
  const CliRun create = run_cli(
      "create-db --train-images " + path("voc/train/images") +
      " --train-labels " + path("voc/train/labels") + " --val-images " +
      path("voc/val/images") + " --val-labels " + path("voc/val/labels") +
      " --out " + path("db"));
  ASSERT_EQ(create.exit_code, 0) << create.output;
  EXPECT_TRUE(contains(create.output, "6 train, 2 val entries"));
  const CliRun explore = run_cli(
      "explore-db " + path("db") + " --montage " + path("montage.png") +
      " --count 3");
  ASSERT_EQ(explore.exit_code, 0) << explore.output;
  EXPECT_TRUE(contains(explore.output, "train_db\nentries: 6"));
  EXPECT_TRUE(contains(explore.output, "val_db\nentries: 2"));
  EXPECT_TRUE(contains(explore.output, "(ignore)"));
  EXPECT_TRUE(std::filesystem::exists(path("montage.png")));
  const CliRun augmented = run_cli(
      "explore-db " + path("db") + " --montage " + path("augmented.png") +
      " --count 3 --flip --rotate 15 --hue 20 --seed 4");
  ASSERT_EQ(augmented.exit_code, 0) << augmented.output;
  const auto plain = data::read_image(path("montage.png"));
  const auto changed = data::read_image(path("augmented.png"));
  EXPECT_EQ(plain.sizes(), changed.sizes()); // same tiles, other pixels
  EXPECT_FALSE(at::equal(plain, changed));
  const CliRun split = run_cli("explore-db " + path("db/val_db"));
  ASSERT_EQ(split.exit_code, 0) << split.output;
  EXPECT_TRUE(contains(split.output, "val_db\nentries: 2"));
  EXPECT_FALSE(contains(split.output, "train_db"));
}

TEST_F(CliTest, CreateDbNamesABadLabel) {
  const CliRun synth =
      run_cli("synth-voc " + path("voc.tar") + " --images 4 --max-side 32");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  ASSERT_EQ(
      run_cli("prepare-voc " + path("voc.tar") + " " + path("voc")).exit_code,
      0);
  std::ofstream(path("voc/train/labels/synth_000001.png")) << "garbage";
  const CliRun create = run_cli(
      "create-db --train-images " + path("voc/train/images") +
      " --train-labels " + path("voc/train/labels") + " --out " + path("db"));
  EXPECT_EQ(create.exit_code, 1);
  EXPECT_TRUE(contains(
      create.output,
      "error: label " + path("voc/train/labels/synth_000001.png") +
          " is not a readable image"))
      << create.output;
  EXPECT_FALSE(std::filesystem::exists(path("db")));
}

TEST_F(CliTest, TrainEvalSegment) {
  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 6, 48), "");

  const CliRun dry = run_cli(
      "train " + path("voc") + " --dry-run --output-dir " + path("dry"));
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_TRUE(
      contains(dry.output, "dry run: one training step on synth_000001"));
  EXPECT_FALSE(std::filesystem::exists(path("dry")));

  const CliRun train = run_cli(
      "train " + path("voc") + " --epochs 1 --lr 1e-3 --output-dir " +
      path("out"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_TRUE(
      contains(train.output, "train: 4 images, val: 2 images, 21 classes"));
  for (const char* file :
       {"model.pt",
        "snapshot_iter_4.pt",
        "curves.png",
        "metrics.jsonl",
        "epochs.csv",
        "iterations.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(path("out/") + file)) << file;
  }

  const CliRun eval = run_cli(
      "eval " + path("out/model.pt") + " " + path("voc") + " --confusion " +
      path("confusion.png"));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_TRUE(contains(eval.output, "val: 2 images"));
  EXPECT_TRUE(contains(eval.output, "mean IU"));
  EXPECT_TRUE(contains(eval.output, "tvmonitor"));
  EXPECT_TRUE(std::filesystem::exists(path("confusion.png")));

  const CliRun segment = run_cli(
      "segment " + path("out/model.pt") + " " +
      path("voc/val/images/synth_000006.jpg") + " --out " + path("seg"));
  ASSERT_EQ(segment.exit_code, 0) << segment.output;
  EXPECT_TRUE(std::filesystem::exists(path("seg/synth_000006_mask.png")));
  const CliRun automatic = run_cli(
      "eval " + path("out/model.pt") + " " + path("voc") + " --amp auto");
  ASSERT_EQ(automatic.exit_code, 0) << automatic.output;
  EXPECT_TRUE(contains(automatic.output, "mean IU"));
  EXPECT_TRUE(std::filesystem::exists(path("seg/synth_000006_overlay.png")));

  const CliRun resume = run_cli(
      "train " + path("voc") + " --epochs 2 --lr 1e-3 --output-dir " +
      path("out") + " --resume " + path("out/snapshot_iter_4.pt"));
  ASSERT_EQ(resume.exit_code, 0) << resume.output;
  EXPECT_TRUE(contains(resume.output, "resumed from"));
  EXPECT_TRUE(std::filesystem::exists(path("out/snapshot_iter_8.pt")));
}

TEST_F(CliTest, PretrainThenSurgeryThenTrain) {
  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 6, 48), "");
  const CliRun pretrain = run_cli(
      "pretrain " + path("voc") + " --epochs 1 --iter-size 4 --lr 1e-3 " +
      "--min-pixels 4 --output-dir " + path("pre"));
  ASSERT_EQ(pretrain.exit_code, 0) << pretrain.output;
  EXPECT_TRUE(contains(pretrain.output, "pretrain: Alexnet classifier, 21"));
  for (const char* file :
       {"alexnet.caffemodel",
        "alexnet_deploy.prototxt",
        "curves.png",
        "epochs.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(path("pre/") + file)) << file;
  }

  const CliRun surgery = run_cli(
      "surgery " + path("pre/alexnet.caffemodel") + " " + path("fcn.pt"));
  ASSERT_EQ(surgery.exit_code, 0) << surgery.output;
  EXPECT_TRUE(contains(surgery.output, "reshaped")) << surgery.output;
  EXPECT_TRUE(contains(surgery.output, "dropped          fc8"))
      << surgery.output;

  const CliRun train = run_cli(
      "train " + path("voc") + " --weights " + path("fcn.pt") +
      " --epochs 1 --lr 1e-3 --output-dir " + path("out"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_TRUE(std::filesystem::exists(path("out/model.pt")));

  const CliRun zero_epochs = run_cli(
      "pretrain " + path("voc") + " --epochs 0 --output-dir " + path("bad"));
  EXPECT_NE(zero_epochs.exit_code, 0);
  EXPECT_TRUE(contains(zero_epochs.output, "--epochs")) << zero_epochs.output;
}

TEST_F(CliTest, MixedPrecisionAndDeviceFlags) {
  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 6, 48), "");
  const CliRun train = run_cli(
      "train " + path("voc") + " --epochs 1 --amp bf16 --output-dir " +
      path("out"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const CliRun eval = run_cli(
      "eval " + path("out/model.pt") + " " + path("voc") + " --amp bf16");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_TRUE(contains(eval.output, "mean IU"));
  const CliRun segment = run_cli(
      "segment " + path("out/model.pt") + " " +
      path("voc/val/images/synth_000006.jpg") + " --amp bf16 --out " +
      path("seg"));
  ASSERT_EQ(segment.exit_code, 0) << segment.output;
  EXPECT_TRUE(std::filesystem::exists(path("seg/synth_000006_mask.png")));

  const CliRun fp16 = run_cli("train " + path("voc") + " --amp fp16");
  EXPECT_NE(fp16.exit_code, 0);
  EXPECT_TRUE(contains(fp16.output, "--amp"));
  EXPECT_TRUE(contains(fp16.output, "fp16 needs a CUDA device")) << fp16.output;
  if (!cuda_available()) {
    for (const std::string command :
         {"train " + path("voc") + " --device cuda",
          "eval " + path("out/model.pt") + " " + path("voc") +
              " --device cuda:1",
          "segment " + path("out/model.pt") + " " +
              path("voc/val/images/synth_000006.jpg") + " --device cuda"}) {
      const CliRun run = run_cli(command);
      EXPECT_NE(run.exit_code, 0) << command;
      EXPECT_TRUE(contains(run.output, "--device")) << run.output;
      EXPECT_TRUE(contains(run.output, "was asked for")) << run.output;
    }
  }
}

TEST_F(CliTest, SolversAndAugmentationFromTheCommandLine) {
  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 6, 48), "");
  const CliRun adam = run_cli(
      "train " + path("voc") +
      " --solver Adam --lr 1e-4 --lr-policy sigmoid --regularization L1 "
      "--clip-gradients 100 --epochs 1 --progress-seconds 0 --output-dir " +
      path("adam"));
  ASSERT_EQ(adam.exit_code, 0) << adam.output;
  // Not a terminal: plain lines, one per update here, no carriage returns.
  EXPECT_TRUE(contains(adam.output, "train: epoch 1/1  iter 1/4  loss"));
  EXPECT_TRUE(contains(adam.output, "\ntrain: epoch 1/1  iter 4/4  loss"));
  EXPECT_FALSE(contains(adam.output, "\r")) << adam.output;
  EXPECT_TRUE(contains(adam.output, "adam lr 0.0001")) << adam.output;
  EXPECT_TRUE(std::filesystem::exists(path("adam/snapshot_iter_4.pt")));
  // Caffe's AdaGrad takes no momentum: given explicitly, it is refused.
  const CliRun adagrad = run_cli(
      "train " + path("voc") + " --solver adagrad --momentum 0.9 --dry-run");
  EXPECT_NE(adagrad.exit_code, 0);
  EXPECT_TRUE(contains(adagrad.output, "--momentum")) << adagrad.output;
  EXPECT_TRUE(contains(adagrad.output, "adagrad takes no momentum"));
  // Without it, AdaGrad runs at momentum 0 (as DIGITS writes it).
  const CliRun quiet =
      run_cli("train " + path("voc") + " --solver adagrad --lr 1e-3 --dry-run");
  EXPECT_EQ(quiet.exit_code, 0) << quiet.output;

  const CliRun augmented = run_cli(
      "train " + path("voc") +
      " --flip --scale 0.8 1.2 --rotate 10 --quarter-turns --crop 40x40 "
      "--hue 10 --saturation 0.2 --brightness 0.2 --noise 3 --epochs 1 "
      "--output-dir " +
      path("augmented"));
  ASSERT_EQ(augmented.exit_code, 0) << augmented.output;
  EXPECT_TRUE(std::filesystem::exists(path("augmented/snapshot_iter_4.pt")));
  for (const auto& [flags, named] :
       std::vector<std::pair<std::string, std::string>>{
           {"--scale 2 1", "--scale"},
           {"--crop 0x5", "--crop"},
           {"--crop big", "--crop"}}) {
    const CliRun run = run_cli("train " + path("voc") + " --dry-run " + flags);
    EXPECT_NE(run.exit_code, 0) << flags;
    EXPECT_TRUE(contains(run.output, named)) << flags << ": " << run.output;
  }
}

TEST_F(CliTest, PrepareSbdFromASyntheticArchive) {
  const CliRun synth = run_cli(
      "synth-voc " + path("benchmark.tar") + " --sbd --images 4 --max-side 40");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  const CliRun prepare =
      run_cli("prepare-sbd " + path("benchmark.tar") + " " + path("sbd"));
  ASSERT_EQ(prepare.exit_code, 0) << prepare.output;
  EXPECT_TRUE(contains(prepare.output, "3 train, 1 val images"))
      << prepare.output;
  EXPECT_TRUE(std::filesystem::exists(path("sbd/val/labels/synth_000004.png")));
  const CliRun half = run_cli(
      "prepare-sbd " + path("benchmark.tar") + " " + path("x") +
      " --fcn-val-ids " + path("benchmark.tar"));
  EXPECT_NE(half.exit_code, 0);
  EXPECT_TRUE(contains(half.output, "--voc")) << half.output;
}

TEST_F(CliTest, TrainWithoutDataFails) {
  const CliRun run = run_cli("train " + path("nothing"));
  EXPECT_NE(run.exit_code, 0);
  EXPECT_TRUE(contains(run.output, "is neither a prepare-voc folder"))
      << run.output;
}

TEST_F(CliTest, TrainsFcn8sAndADigitsPrototxt) {
  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 4, 40), "");
  std::ofstream(path("fcn_alexnet.prototxt")) << testing::kDigitsFcnAlexnet;

  for (const std::string network :
       {std::string("fcn8s"), path("fcn_alexnet.prototxt")}) {
    const std::string out = path(network == "fcn8s" ? "fcn8s" : "digits");
    const CliRun train = run_cli(
        "train " + path("voc") + " --network " + network +
        " --epochs 1 --output-dir " + out);
    ASSERT_EQ(train.exit_code, 0) << train.output;
    EXPECT_TRUE(contains(train.output, "train: 3 images")) << train.output;
    if (network == "fcn8s") {
      // FCN's VGG nets sum their loss over pixels, so they train with FCN's
      // solver unless told otherwise.
      EXPECT_TRUE(
          contains(train.output, "network fcn8s, 1 epochs, sgd lr 1e-10"))
          << train.output;
    }

    // The model file carries its network: no prototxt needed from here on.
    const CliRun eval = run_cli("eval " + out + "/model.pt " + path("voc"));
    ASSERT_EQ(eval.exit_code, 0) << eval.output;
    EXPECT_TRUE(contains(eval.output, "mean IU"));
    const CliRun segment = run_cli(
        "segment " + out + "/model.pt " +
        path("voc/val/images/synth_000004.jpg") + " --out " + out + "/seg");
    ASSERT_EQ(segment.exit_code, 0) << segment.output;
    EXPECT_TRUE(std::filesystem::exists(out + "/seg/synth_000004_mask.png"));
  }
  EXPECT_EQ(io::load_model(path("fcn8s/model.pt")).model->spec().name, "fcn8s");
}

TEST_F(CliTest, TrainsOneHeadOfAnFcnTwoLossNet) {
  // FCN's SIFT Flow shape: a Python data layer and two losses.
  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 4, 40), "");
  const std::string net = path("siftflow.prototxt");
  std::ofstream(net) << testing::kTwoHeadNet;

  const CliRun unchosen = run_cli("summary --network " + net);
  EXPECT_NE(unchosen.exit_code, 0);
  EXPECT_TRUE(contains(
      unchosen.output,
      "the network has 2 loss layers (loss_sem, loss_geo); choose the one "
      "to train and evaluate with --loss-layer"))
      << unchosen.output;

  const CliRun summary = run_cli(
      "summary --network " + net + " --loss-layer loss_geo --input 20x20");
  ASSERT_EQ(summary.exit_code, 0) << summary.output;
  EXPECT_TRUE(contains(
      summary.output,
      "note: loss layer loss_geo chosen of loss_sem, loss_geo; pruned (they "
      "do not feed it): score_sem"))
      << summary.output;
  EXPECT_TRUE(contains(
      summary.output, "note: data layer data: Python siftflow_layers."))
      << summary.output;
  EXPECT_TRUE(contains(run_cli("train --help").output, "--loss-layer"));

  const std::string out = path("sem");
  const CliRun train = run_cli(
      "train " + path("voc") + " --network " + net +
      " --loss-layer loss_sem --epochs 1 --output-dir " + out);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const auto model = io::load_model(out + "/model.pt").model;
  EXPECT_EQ(model->spec().output, "score_sem");
  EXPECT_EQ(model->spec().find("score_geo"), nullptr);
}

TEST_F(CliTest, ConvolutionalizesAClassifierAndTrainsTheFcn) {
  const std::string classifier = path("classifier.prototxt");
  std::ofstream(classifier) << R"(name: "tiny"
layer { name: "data" type: "Input" top: "data"
  input_param { shape: { dim: 1 dim: 3 dim: 32 dim: 32 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 5 stride: 4 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "fc6" type: "InnerProduct" bottom: "pool1" top: "fc6"
  inner_product_param { num_output: 16 } }
layer { name: "relu6" type: "ReLU" bottom: "fc6" top: "fc6" }
layer { name: "fc7" type: "InnerProduct" bottom: "fc6" top: "fc7"
  inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "fc7" top: "prob" }
)";
  // The classifier itself, at the size it declares.
  const CliRun summary = run_cli("summary --network " + classifier);
  ASSERT_EQ(summary.exit_code, 0) << summary.output;
  EXPECT_TRUE(contains(summary.output, "InnerProduct   16x1x1"))
      << summary.output;

  EXPECT_TRUE(
      contains(run_cli("convolutionalize --help").output, "--out-weights"));
  const std::string fcn = path("fcn.prototxt");
  const CliRun run = run_cli(
      "convolutionalize " + classifier + " -o " + fcn + " --num-classes 21");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(
      run.output, "note: fc6: InnerProduct on 8x3x3 -> Convolution 3x3"))
      << run.output;
  EXPECT_TRUE(contains(
      run.output,
      "note: upscore: fixed bilinear, kernel 15, stride 8, 21 groups; score: "
      "crop offset 93"))
      << run.output;

  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 4, 40), "");
  const CliRun train = run_cli(
      "train " + path("voc") + " --network " + fcn +
      " --epochs 1 --output-dir " + path("run"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const auto model = io::load_model(path("run") + "/model.pt").model;
  EXPECT_EQ(model->spec().find("fc6")->convolution.window.kernel_h, 3);
}

// The lr column of a run's iterations.csv, one value per update.
std::vector<double> logged_rates(const std::string& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line); // header
  std::vector<double> rates;
  while (std::getline(in, line)) {
    rates.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  }
  return rates;
}

TEST_F(CliTest, TrainsFromCaffeSolverFiles) {
  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 4, 40), "");
  // FCN's layout: the solver names the net beside it.
  std::filesystem::create_directories(path("fcn"));
  std::ofstream(path("fcn/train.prototxt")) << testing::kTwoHeadNet;
  std::ofstream(path("fcn/solver.prototxt"))
      << "train_net: \"train.prototxt\"\ntest_iter: 736\nbase_lr: 1e-4\n"
         "lr_policy: \"step\"\ngamma: 0.5\nstepsize: 2\nmomentum: 0.99\n"
         "weight_decay: 0.0005\ndisplay: 1\nmax_iter: 5\nsnapshot: 0\n"
         "test_initialization: false\n";
  const CliRun train = run_cli(
      "train " + path("voc") + " --solver-file " + path("fcn/solver.prototxt") +
      " --loss-layer loss_sem --output-dir " + path("fcn_out"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_TRUE(contains(
      train.output,
      "solver.prototxt: ignored (they do not apply): test_iter "
      "test_initialization"))
      << train.output;
  EXPECT_TRUE(contains(train.output, "5 updates, sgd lr 0.0001"))
      << train.output;
  // Caffe's step schedule, update by update (0-based iterations).
  const auto rates = logged_rates(path("fcn_out/iterations.csv"));
  ASSERT_EQ(rates.size(), 5u);
  for (size_t i = 0; i < rates.size(); ++i) {
    EXPECT_NEAR(rates[i], 1e-4 * std::pow(0.5, i / 2), 1e-10) << i;
  }
  // The run records the solver it used: the file's momentum and schedule.
  const auto effective =
      train::read_solver_file(path("fcn_out/solver.prototxt"));
  EXPECT_FLOAT_EQ(effective.solver.momentum(), 0.99f);
  EXPECT_EQ(effective.solver.lr_policy(), train::LrPolicy::kStep);
  EXPECT_EQ(effective.solver.step_size(), 2);
  EXPECT_FLOAT_EQ(effective.solver.weight_decay(), 5e-4f);
  EXPECT_EQ(effective.max_iter, 5);
  EXPECT_EQ(
      caffe::read_prototxt(effective.net).output, "score_sem"); // pruned net

  // Flags override the file; poly then ends with the run --max-iter gives
  // (lr * (1 - it/2)), not at the file's max_iter of 5.
  const CliRun overridden = run_cli(
      "train " + path("voc") + " --solver-file " + path("fcn/solver.prototxt") +
      " --loss-layer loss_sem --lr 1e-3 --lr-policy poly --power 1 "
      "--max-iter 2 --output-dir " +
      path("override_out"));
  ASSERT_EQ(overridden.exit_code, 0) << overridden.output;
  EXPECT_EQ(
      logged_rates(path("override_out/iterations.csv")),
      (std::vector<double>{1e-3, 5e-4}));
  const CliRun both =
      run_cli("train " + path("voc") + " --epochs 1 --max-iter 2");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_TRUE(contains(both.output, "give --epochs or --max-iter, not both"));

  // DIGITS' layout: the legacy enum and an all-in-one net.
  std::filesystem::create_directories(path("digits"));
  std::ofstream(path("digits/train_val.prototxt"))
      << testing::kDigitsFcnAlexnet;
  std::ofstream(path("digits/solver.prototxt"))
      << "test_iter: 1\ntest_interval: 4\nbase_lr: 0.0001\ndisplay: 1\n"
         "max_iter: 2\nlr_policy: \"fixed\"\nmomentum: 0.9\n"
         "weight_decay: 1e-06\nsnapshot: 4\nsnapshot_prefix: \"snapshot\"\n"
         "solver_mode: CPU\nnet: \"train_val.prototxt\"\nsolver_type: SGD\n";
  const CliRun digits = run_cli(
      "train " + path("voc") + " --solver-file " +
      path("digits/solver.prototxt") + " --output-dir " + path("digits_out"));
  ASSERT_EQ(digits.exit_code, 0) << digits.output;
  EXPECT_TRUE(contains(digits.output, "network fcn_alexnet, 2 updates"))
      << digits.output;
  EXPECT_EQ(logged_rates(path("digits_out/iterations.csv")).size(), 2u);
}

} // namespace
} // namespace fcnlab
