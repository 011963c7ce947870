#include "augment_flags.h"
#include "commands.h"
#include "device_flags.h"
#include "interrupts.h"
#include "network.h"
#include "run_flags.h"
#include "solver_flags.h"

#include <fcnlab/data/dataset_dir.h>
#include <fcnlab/io/model_file.h>
#include <fcnlab/train/dry_run.h>
#include <fcnlab/train/solver_file.h>
#include <fcnlab/train/trainer.h>

#include <ATen/Parallel.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

namespace fcnlab {
namespace tools {

void add_train_command(CLI::App& app) {
  struct Flags {
    std::string data;
    data::DatasetFolders folders;
    std::string weights;
    std::string resume;
    NetworkFlags network;
    bool skip_mismatched = false;
    bool dry_run = false;
    bool one_at_a_time = false;
    SolverFlags solver;
    AugmentFlags augment;
    int64_t epochs = 10, max_iter = 0, snapshot_every = 1, val_every = 1;
    CLI::Option *weights_option = nullptr, *epochs_option = nullptr,
                *max_iter_option = nullptr, *snapshot_option = nullptr,
                *val_option = nullptr;
    RunFlags run;
    std::string output_dir = "train_out";
    DeviceFlags compute;
  };
  auto f = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "train",
      "Train a network (FCN-Alexnet by default; batch 1, native image sizes, "
      "Caffe's solvers) on a prepare-voc or create-db folder, or on image/label "
      "folders");
  command->add_option(
      "DATA", f->data, "prepare-voc or create-db output folder");
  command->add_option(
      "--train-images", f->folders.train_images, "training image folder");
  command->add_option(
      "--train-labels", f->folders.train_labels, "training label folder");
  command->add_option(
      "--val-images", f->folders.val_images, "validation image folder");
  command->add_option(
      "--val-labels", f->folders.val_labels, "validation label folder");
  command->add_option("--classes", f->folders.classes, "class names file");
  f->weights_option = command->add_option(
      "--weights",
      f->weights,
      "start from bvlc_alexnet.caffemodel (net surgery), an FCN caffemodel or "
      "an fcnlab model");
  command->add_flag(
      "--skip-mismatched",
      f->skip_mismatched,
      "keep layers of --weights with other shapes initialised");
  command->add_option(
      "--resume", f->resume, "continue from a snapshot_iter_N.pt");
  f->epochs_option =
      command
          ->add_option(
              "--epochs", f->epochs, "training epochs (DIGITS example: 10)")
          ->check(positive_number());
  f->max_iter_option =
      command
          ->add_option(
              "--max-iter",
              f->max_iter,
              "updates to run, as Caffe counts them, instead of --epochs (the "
              "last epoch is cut short)")
          ->check(positive_number());
  f->solver.add_to(command);
  f->snapshot_option =
      command
          ->add_option(
              "--snapshot-every", f->snapshot_every, "epochs between snapshots")
          ->check(positive_number());
  f->val_option =
      command
          ->add_option(
              "--val-every", f->val_every, "epochs between validations")
          ->check(positive_number());
  command->add_option("--output-dir", f->output_dir, "snapshots, logs, curves");
  f->run.add_to(command, "initialisation, dropout and order");
  f->network.add_to(command, /*alexnet_options=*/true, /*num_classes=*/false);
  f->compute.add_to(command);
  f->augment.add_to(command);
  command->add_flag(
      "--one-at-a-time",
      f->one_at_a_time,
      "never batch the equal-size images of an update (--iter-size) together");
  command->add_flag(
      "--dry-run",
      f->dry_run,
      "check data, weights and one training step, write nothing");

  command->callback([f] {
    if (f->epochs_option->count() && f->max_iter_option->count()) {
      throw CLI::ValidationError(
          "--max-iter", "give --epochs or --max-iter, not both");
    }
    std::optional<train::SolverFile> solver_file;
    if (!f->solver.file.empty()) {
      solver_file = train::read_solver_file(f->solver.file);
      if (!solver_file->net.empty() && !f->network.network_given()) {
        f->network.network = solver_file->net;
      }
      if (!solver_file->weights.empty() && !f->weights_option->count()) {
        f->weights = solver_file->weights;
      }
      if (solver_file->random_seed && !f->run.seed_option->count()) {
        f->run.seed = static_cast<uint64_t>(*solver_file->random_seed);
      }
    }
    data::DatasetDir data;
    if (!f->data.empty()) {
      data = data::open_dataset_dir(f->data);
      if (!f->folders.classes.empty()) {
        data.class_names = data::read_class_names(f->folders.classes);
      }
    } else if (!f->folders.train_images.empty()) {
      data = data::open_dataset_folders(f->folders);
    } else {
      throw CLI::ValidationError(
          "train", "give DATA or --train-images/--train-labels");
    }
    if (!data.train) {
      throw CLI::ValidationError("train", "the data has no training split");
    }
    const auto classes = static_cast<int64_t>(data.class_names.size());
    f->network.num_classes = classes;
    torch::manual_seed(f->run.seed); // initial weights
    // Printed once the rank is known: in a job, rank 0 alone speaks.
    std::ostringstream setup;
    models::FcnNet model{nullptr};
    if (f->weights.empty()) {
      model = f->network.build();
    } else {
      const auto loaded = io::load_network(
          f->weights,
          [&] { return f->network.build(); },
          caffe::ImportOptions().skip_mismatched(f->skip_mismatched));
      model = loaded.model;
      if (loaded.report) {
        setup << "weights from " << f->weights << "\n"
              << loaded.report->to_string();
      } else {
        setup << "weights and network from " << f->weights << "\n";
      }
    }
    TORCH_CHECK(
        model->num_classes() == classes,
        "network ",
        model->spec().source,
        " scores ",
        model->num_classes(),
        " classes but the data has ",
        classes);
    auto solver = f->solver.options(
        model->spec().loss.normalize, solver_file ? &*solver_file : nullptr);
    if (f->epochs_option->count() || f->max_iter_option->count()) {
      solver.max_iter(0); // poly's end is the end of the run given here
    }
    auto options = train::TrainerOptions();
    if (solver_file) {
      auto file = *solver_file;
      file.solver = solver; // as the flags left it
      std::string rounding;
      options = train::with_solver_file(
          options,
          file,
          static_cast<int64_t>(data.train->size().value()),
          &rounding);
      setup << "solver file " << solver_file->path << ": " << rounding << "\n";
      if (!solver_file->ignored.empty()) {
        setup << "solver file " << solver_file->path
              << ": ignored (they do not apply):";
        for (const auto& field : solver_file->ignored) {
          setup << " " << field;
        }
        setup << "\n";
      }
    }
    // Without a solver file every flag applies; with one, those given.
    const auto applies = [&](const CLI::Option* option) {
      return !solver_file || option->count() > 0;
    };
    if (applies(f->epochs_option)) {
      options.epochs(f->epochs).max_iter(0);
    }
    if (f->max_iter_option->count()) {
      options.max_iter(f->max_iter);
    }
    if (applies(f->snapshot_option)) {
      options.snapshot_every(f->snapshot_every);
    }
    if (applies(f->val_option)) {
      options.val_every(f->val_every);
    }
    options.solver(solver)
        .output_dir(f->output_dir)
        .dataset(std::filesystem::absolute(f->data).lexically_normal().string())
        .augment(f->augment.options())
        .batch_equal_sizes(!f->one_at_a_time)
        .device(f->compute.parsed_device().str())
        .precision(to_string(f->compute.parsed_precision()));
    f->run.apply_to(options);
    setup << "train: " << data.train->size().value()
          << " images, val: " << (data.val ? data.val->size().value() : 0)
          << " images, " << classes << " classes, network "
          << model->spec().name << ", "
          << (options.max_iter() > 0
                  ? std::to_string(options.max_iter()) + " updates, "
                  : std::to_string(options.epochs()) + " epochs, ")
          << train::to_string(solver.type()) << " lr " << solver.base_lr()
          << ", " << at::get_num_threads() << " threads\n";
    if (f->dry_run) {
      std::cout << setup.str();
      const auto step = train::dry_run(model, *data.train, options);
      std::cout << "dry run: one training step on " << step.image << " ("
                << step.height << "x" << step.width << ", loss " << step.loss
                << ") works on " << options.device() << " in "
                << options.precision() << "; nothing written\n";
      return;
    }
    train::Trainer trainer(
        model, data.train, data.val, options, data.class_names);
    if (!f->resume.empty()) {
      trainer.resume(f->resume);
      setup << "resumed from " << f->resume << " at iteration "
            << trainer.iteration() << "\n";
    }
    if (trainer.rank() == 0) {
      std::cout << setup.str() << std::flush;
    }
    const std::string snapshot = train_until_interrupted(trainer);
    if (trainer.rank() != 0) {
      return; // rank 0 wrote the files
    }
    std::cout << "snapshot: " << snapshot << "\nmodel: " << f->output_dir
              << "/model.pt\ncurves: " << f->output_dir
              << "/curves.png\nmetrics: " << f->output_dir
              << "/metrics.jsonl, epochs.csv\n";
    print_job_summary(trainer);
  });
}

} // namespace tools
} // namespace fcnlab
