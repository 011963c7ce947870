#include "bindings.h"

#include <fcnlab/caffe/exporter.h>
#include <fcnlab/data/lmdb_db.h>
#include <fcnlab/train/metrics.h>
#include <fcnlab/train/pretrain.h>
#include <fcnlab/train/solver.h>
#include <fcnlab/train/solver_file.h>
#include <fcnlab/train/trainer.h>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {
namespace {

// Solver(model, **options): Trainer's solver keywords, with the rate and
// momentum the network's loss wants unless given and a fixed rate policy.
train::SolverOptions solver_options(
    const models::FcnNetImpl& model,
    const py::kwargs& keywords) {
  const auto type = train::parse_solver_type(
      keywords.contains("solver") ? keywords["solver"].cast<std::string>()
                                  : "sgd");
  const auto defaults =
      train::solver_defaults(type, model.spec().loss.normalize);
  auto options = train::SolverOptions()
                     .type(type)
                     .base_lr(defaults.base_lr)
                     .momentum(defaults.momentum)
                     .lr_policy(train::LrPolicy::kFixed);
  for (const auto& [key_handle, value] : keywords) {
    const auto key = key_handle.cast<std::string>();
    if (key == "solver") {
      continue;
    }
    if (key == "lr") {
      options.base_lr(value.cast<double>());
    } else if (key == "momentum") {
      options.momentum(value.cast<double>());
    } else if (key == "momentum2") {
      options.momentum2(value.cast<double>());
    } else if (key == "rms_decay") {
      options.rms_decay(value.cast<double>());
    } else if (key == "delta") {
      options.delta(value.cast<double>());
    } else if (key == "weight_decay") {
      options.weight_decay(value.cast<double>());
    } else if (key == "regularization") {
      options.regularization(
          train::parse_regularization(value.cast<std::string>()));
    } else if (key == "clip_gradients") {
      options.clip_gradients(value.cast<double>());
    } else if (key == "lr_policy") {
      options.lr_policy(train::parse_lr_policy(value.cast<std::string>()));
    } else if (key == "gamma") {
      options.gamma(value.cast<double>());
    } else if (key == "power") {
      options.power(value.cast<double>());
    } else if (key == "step_size") {
      options.step_size(value.cast<int64_t>());
    } else if (key == "step_values") {
      options.step_values(value.cast<std::vector<int64_t>>());
    } else if (key == "max_iter") {
      options.max_iter(value.cast<int64_t>());
    } else if (key == "iter_size") {
      options.iter_size(value.cast<int64_t>());
    } else if (key == "fused") {
      options.fused(value.cast<bool>());
    } else {
      throw py::value_error(
          "Solver has no option " + key +
          " (solver, lr, momentum, momentum2, rms_decay, delta, "
          "weight_decay, regularization, clip_gradients, lr_policy, gamma, "
          "power, step_size, step_values, max_iter, iter_size, fused)");
    }
  }
  train::check_solver_options(options);
  return options;
}

py::dict iteration_dict(const train::IterationInfo& info) {
  py::dict out;
  out["epoch"] = info.epoch;
  out["iteration"] = info.iteration;
  out["loss"] = info.loss;
  out["accuracy"] = info.accuracy;
  out["lr"] = info.learning_rate;
  out["images_per_second"] = info.images_per_second;
  return out;
}

py::dict epoch_dict(const train::EpochInfo& info) {
  py::dict out;
  out["epoch"] = info.epoch;
  out["iteration"] = info.iteration;
  out["lr"] = info.learning_rate;
  out["train_loss"] = info.train_loss;
  out["train_accuracy"] = info.train_accuracy;
  out["val_loss"] = info.val_loss;
  out["val_pixel_accuracy"] = info.val_pixel_accuracy;
  out["val_mean_accuracy"] = info.val_mean_accuracy;
  out["val_mean_iu"] = info.val_mean_iu;
  out["val_fw_iu"] = info.val_frequency_weighted_iu;
  out["val_class_iu"] = info.val_class_iu;
  out["seconds"] = info.seconds;
  return out;
}

// A Python callback's result: None or a true value continues training.
template <typename Info>
std::function<bool(const Info&)> python_callback(
    py::function callback,
    py::dict (*convert)(const Info&)) {
  return [callback, convert](const Info& info) {
    py::gil_scoped_acquire acquire;
    const py::object result = callback(convert(info));
    return result.is_none() || result.cast<bool>();
  };
}

// A Python object as a TrainerHook: each of before_train(trainer),
// after_step(trainer, info), after_epoch(trainer, info) and
// after_train(trainer, stopped) that it has is called, infos as dicts; from
// after_step and after_epoch, False stops training.
class PythonHook : public train::TrainerHook {
 public:
  explicit PythonHook(py::object hook) : hook_(std::move(hook)) {}
  ~PythonHook() override {
    py::gil_scoped_acquire acquire;
    hook_ = py::object();
  }

  void before_train(train::Trainer& trainer) override {
    py::gil_scoped_acquire acquire;
    call("before_train", trainer);
  }
  bool after_step(train::Trainer& trainer, const train::IterationInfo& info)
      override {
    py::gil_scoped_acquire acquire;
    return call("after_step", trainer, iteration_dict(info));
  }
  bool after_epoch(train::Trainer& trainer, train::EpochInfo& info) override {
    py::gil_scoped_acquire acquire;
    return call("after_epoch", trainer, epoch_dict(info));
  }
  void after_train(train::Trainer& trainer, bool stopped) override {
    py::gil_scoped_acquire acquire;
    call("after_train", trainer, py::bool_(stopped));
  }

 private:
  // Calls the method `name` if the object has it (the GIL held); true
  // unless it returned a false value other than None.
  template <typename... Args>
  bool call(const char* name, train::Trainer& trainer, Args&&... args) {
    if (!py::hasattr(hook_, name)) {
      return true;
    }
    const py::object result = hook_.attr(name)(
        py::cast(&trainer, py::return_value_policy::reference),
        std::forward<Args>(args)...);
    return result.is_none() || result.cast<bool>();
  }

  py::object hook_;
};

// Datasets reach the trainer as the C++ interface they implement.
std::shared_ptr<data::SegmentationDataset> as_dataset(
    const py::object& object) {
  if (object.is_none()) {
    return nullptr;
  }
  if (py::isinstance<data::VOCSegmentation>(object)) {
    return object.cast<std::shared_ptr<data::VOCSegmentation>>();
  }
  if (py::isinstance<data::LmdbSegmentation>(object)) {
    return object.cast<std::shared_ptr<data::LmdbSegmentation>>();
  }
  throw py::type_error(
      "expected fcnlab.VOCSegmentation or fcnlab.LmdbSegmentation");
}

// A job given as a dict: {"rank": 1, "world_size": 2, "master_address":
// "10.0.0.1", "master_port": 29500}, plus optionally local_rank,
// agent_store, restart_count and interfaces (JobEnvironment's fields).
std::optional<train::JobEnvironment> job_from_dict(const py::object& object) {
  if (object.is_none()) {
    return std::nullopt;
  }
  if (!py::isinstance<py::dict>(object)) {
    throw py::type_error("job: expected a dict of JobEnvironment fields");
  }
  train::JobEnvironment job;
  bool local_rank_given = false;
  for (const auto& item : object.cast<py::dict>()) {
    const auto key = item.first.cast<std::string>();
    const auto value = py::reinterpret_borrow<py::object>(item.second);
    if (key == "rank") {
      job.rank = value.cast<int64_t>();
    } else if (key == "world_size") {
      job.world_size = value.cast<int64_t>();
    } else if (key == "local_rank") {
      job.local_rank = value.cast<int64_t>();
      local_rank_given = true;
    } else if (key == "master_address") {
      job.master_address = value.cast<std::string>();
    } else if (key == "master_port") {
      job.master_port = value.cast<int64_t>();
    } else if (key == "agent_store") {
      job.agent_store = value.cast<bool>();
    } else if (key == "restart_count") {
      job.restart_count = py::str(value).cast<std::string>();
    } else if (key == "interfaces") {
      job.interfaces = value.cast<std::vector<std::string>>();
    } else {
      throw py::value_error(
          "job: unknown key '" + key +
          "'; expected rank, world_size, local_rank, master_address, "
          "master_port, agent_store, restart_count or interfaces");
    }
  }
  if (!local_rank_given) {
    job.local_rank = job.rank; // one machine, as LOCAL_RANK defaults
  }
  return job;
}

} // namespace

void bind_train(py::module& m) {
  py::class_<train::ConfusionMatrix>(
      m,
      "ConfusionMatrix",
      "FCN's confusion matrix (rows ground truth, columns prediction; labels "
      "outside [0, n) ignored) and its metrics.")
      .def(py::init<int64_t>(), py::arg("num_classes"))
      .def(
          "update",
          &train::ConfusionMatrix::update,
          py::arg("prediction"),
          py::arg("label"))
      .def("merge", &train::ConfusionMatrix::merge, py::arg("other"))
      .def("reset", &train::ConfusionMatrix::reset)
      .def_property_readonly("counts", &train::ConfusionMatrix::counts)
      .def("pixel_accuracy", &train::ConfusionMatrix::pixel_accuracy)
      .def("mean_accuracy", &train::ConfusionMatrix::mean_accuracy)
      .def("mean_iu", &train::ConfusionMatrix::mean_iu)
      .def(
          "frequency_weighted_iu",
          &train::ConfusionMatrix::frequency_weighted_iu)
      .def("class_iu", &train::ConfusionMatrix::class_iu)
      .def(
          "to_string",
          &train::ConfusionMatrix::to_string,
          py::arg("class_names") = std::vector<std::string>{})
      .def("__repr__", [](const train::ConfusionMatrix& self) {
        return "ConfusionMatrix(num_classes=" +
            std::to_string(self.num_classes()) + ")";
      });

  py::class_<train::Trainer>(
      m,
      "Trainer",
      "Training with Caffe's solvers (sgd, nesterov, adagrad, rmsprop, "
      "adadelta, adam), with snapshots, logs and curves in output_dir. "
      "lr and momentum default to what the network's loss wants, as the "
      "CLI's: 1e-4 and 0.9 when it is averaged over pixels (FCN-Alexnet), "
      "1e-10 and 0.99 when it is summed (FCN-32s/16s/8s); 0 momentum for "
      "adagrad and rmsprop. solver_file, a Caffe solver.prototxt (DIGITS' "
      "or FCN's), replaces the solver keywords and sets the run's length "
      "(max_iter), snapshot_every, val_every, log_every and seed from it.")
      .def(
          py::init([](const py::object& model_object,
                      py::object train_data,
                      py::object val_data,
                      int64_t epochs,
                      std::optional<double> lr,
                      std::optional<double> momentum,
                      double weight_decay,
                      const std::string& lr_policy,
                      int64_t iter_size,
                      const std::string& output_dir,
                      uint64_t seed,
                      int threads,
                      int workers,
                      bool progress,
                      std::vector<std::string> class_names,
                      const std::string& device,
                      const std::string& amp,
                      const std::string& solver_name,
                      double momentum2,
                      double rms_decay,
                      double delta,
                      const std::string& regularization,
                      double clip_gradients,
                      double gamma,
                      double power,
                      int64_t step_size,
                      const py::dict& augment,
                      bool batch_equal_sizes,
                      bool distributed,
                      const std::string& distributed_backend,
                      int64_t snapshot_every,
                      int64_t val_every,
                      int64_t log_every,
                      double progress_seconds,
                      double distributed_timeout_seconds,
                      bool overlap_communication,
                      std::vector<int64_t> step_values,
                      int64_t max_iter,
                      bool fused,
                      const py::object& job,
                      const std::string& solver_file) {
            const auto model = network_of(model_object);
            const auto type = train::parse_solver_type(solver_name);
            const auto defaults =
                train::solver_defaults(type, model->spec().loss.normalize);
            auto solver =
                train::SolverOptions()
                    .type(type)
                    .base_lr(lr.value_or(defaults.base_lr))
                    .momentum(momentum.value_or(defaults.momentum))
                    .momentum2(momentum2)
                    .rms_decay(rms_decay)
                    .delta(delta)
                    .weight_decay(weight_decay)
                    .regularization(train::parse_regularization(regularization))
                    .clip_gradients(clip_gradients)
                    .lr_policy(train::parse_lr_policy(lr_policy))
                    .gamma(gamma)
                    .power(power)
                    .step_size(step_size)
                    .step_values(std::move(step_values))
                    .max_iter(max_iter)
                    .iter_size(iter_size)
                    .fused(fused);
            auto options =
                train::TrainerOptions()
                    .epochs(epochs)
                    .solver(solver)
                    .output_dir(output_dir)
                    .seed(seed)
                    .threads(threads)
                    .workers(workers)
                    .progress(progress)
                    .device(device)
                    .precision(amp)
                    .augment(augment_options(augment))
                    .batch_equal_sizes(batch_equal_sizes)
                    .join_job(distributed)
                    .job(job_from_dict(job))
                    .distributed_backend(distributed_backend)
                    .snapshot_every(snapshot_every)
                    .val_every(val_every)
                    .log_every(log_every)
                    .progress_seconds(progress_seconds)
                    .distributed_timeout_seconds(distributed_timeout_seconds)
                    .overlap_communication(overlap_communication);
            auto train_set = as_dataset(train_data);
            auto val_set = as_dataset(val_data);
            if (py::isinstance<py::str>(train_data)) {
              options.dataset(train_data.cast<std::string>());
            }
            if (!solver_file.empty()) {
              auto file = train::read_solver_file(solver_file);
              file.solver.fused(fused);
              options = train::with_solver_file(
                  options,
                  file,
                  static_cast<int64_t>(train_set->size().value_or(0)));
            }
            // Joining a job waits for the other ranks, which may be threads
            // of this interpreter.
            py::gil_scoped_release release;
            return std::make_unique<train::Trainer>(
                models::FcnNet(model),
                std::move(train_set),
                std::move(val_set),
                std::move(options),
                std::move(class_names));
          }),
          py::arg("model"),
          py::arg("train_data"),
          py::arg("val_data") = py::none(),
          py::arg("epochs") = 10,
          py::arg("lr") = py::none(),
          py::arg("momentum") = py::none(),
          py::arg("weight_decay") = 5e-4,
          py::arg("lr_policy") = "step",
          py::arg("iter_size") = 1,
          py::arg("output_dir") = "train_out",
          py::arg("seed") = 0,
          py::arg("threads") = 0,
          py::arg("workers") = 2,
          py::arg("progress") = false,
          py::arg("class_names") = std::vector<std::string>{},
          py::arg("device") = "cpu",
          py::arg("amp") = "fp32",
          py::arg("solver") = "sgd",
          py::arg("momentum2") = 0.999,
          py::arg("rms_decay") = 0.99,
          py::arg("delta") = 1e-8,
          py::arg("regularization") = "L2",
          py::arg("clip_gradients") = -1.0,
          py::arg("gamma") = 0.1,
          py::arg("power") = 1.0,
          py::arg("step_size") = 0,
          py::arg("augment") = py::dict(),
          py::arg("batch_equal_sizes") = true,
          py::arg("distributed") = true,
          py::arg("distributed_backend") = "auto",
          py::arg("snapshot_every") = 1,
          py::arg("val_every") = 1,
          py::arg("log_every") = 10,
          py::arg("progress_seconds") = 30.0,
          py::arg("distributed_timeout_seconds") = 300.0,
          py::arg("overlap_communication") = true,
          py::arg("step_values") = std::vector<int64_t>{},
          py::arg("max_iter") = 0,
          py::arg("fused") = true,
          py::arg("job") = py::none(),
          py::arg("solver_file") = "")
      .def(
          "on_iteration",
          [](train::Trainer& self, py::function callback) {
            self.on_iteration(python_callback<train::IterationInfo>(
                callback, iteration_dict));
          },
          py::arg("callback"),
          "callback(info: dict) after every update; return False to stop.")
      .def(
          "on_epoch",
          [](train::Trainer& self, py::function callback) {
            self.on_epoch(
                python_callback<train::EpochInfo>(callback, epoch_dict));
          },
          py::arg("callback"),
          "callback(info: dict) after every epoch; return False to stop.")
      .def(
          "add_hook",
          [](train::Trainer& self, py::object hook) {
            self.add_hook(std::make_shared<PythonHook>(std::move(hook)));
          },
          py::arg("hook"),
          "Runs hook's before_train(trainer), after_step(trainer, info), "
          "after_epoch(trainer, info) and after_train(trainer, stopped), "
          "whichever it has, after the trainer's own hooks (validation, "
          "logs, progress, snapshots); False from after_step or after_epoch "
          "stops training. fcnlab.TrainerHook is a base class to start from.")
      .def(
          "train",
          &train::Trainer::train,
          py::call_guard<py::gil_scoped_release>(),
          "Trains; returns the last snapshot's path.")
      .def("resume", &train::Trainer::resume, py::arg("snapshot"))
      .def("request_stop", &train::Trainer::request_stop)
      .def_property_readonly(
          "solver",
          [](const train::Trainer& self) {
            const auto& solver = self.options().solver();
            py::dict out;
            out["type"] = train::to_string(solver.type());
            out["lr"] = solver.base_lr();
            out["momentum"] = solver.momentum();
            out["step_size"] = solver.step_size();
            out["max_iter"] = solver.max_iter();
            out["iter_size"] = solver.iter_size();
            out["lr_policy"] = train::to_string(solver.lr_policy());
            out["gamma"] = solver.gamma();
            out["weight_decay"] = solver.weight_decay();
            return out;
          },
          "The solver settings in force (defaults and the schedule filled "
          "in): type, lr, momentum, step_size, max_iter, iter_size, "
          "lr_policy, gamma, weight_decay.")
      .def_property_readonly(
          "max_iter",
          [](const train::Trainer& self) { return self.options().max_iter(); },
          "Updates the run stops after (a solver file's max_iter); 0 when "
          "it counts epochs.")
      .def_property_readonly("iteration", &train::Trainer::iteration)
      .def_property_readonly("rank", &train::Trainer::rank)
      .def_property_readonly("world_size", &train::Trainer::world_size)
      .def_property_readonly(
          "gradient_backend", &train::Trainer::gradient_backend)
      .def(
          "__repr__",
          [](const train::Trainer& self) {
            return "Trainer(iteration=" + std::to_string(self.iteration()) +
                ")";
          })
      .def_property_readonly("history", [](const train::Trainer& self) {
        py::list out;
        for (const auto& info : self.history()) {
          out.append(epoch_dict(info));
        }
        return out;
      });

  py::class_<train::Solver>(
      m,
      "Solver",
      "fcnlab's Caffe solver over a network's trainable parameters (those "
      "param_groups() holds), as Trainer runs it: Solver(model, solver='sgd', "
      "lr=..., momentum=..., weight_decay=5e-4, lr_policy='fixed', ...) with "
      "Trainer's solver keywords; lr and momentum default to what the "
      "network's loss wants.")
      .def(
          py::init([](const py::object& model, const py::kwargs& keywords) {
            const auto network = network_of(model);
            return std::make_unique<train::Solver>(
                train::trainable_parameters(models::FcnNet(network)),
                solver_options(*network, keywords));
          }),
          py::arg("model"))
      .def(
          "step",
          &train::Solver::step,
          py::arg("iteration"),
          py::call_guard<py::gil_scoped_release>(),
          "Applies one update with the rate of `iteration` (counted in "
          "updates) from the accumulated gradients, then zeroes them; "
          "returns the rate used.")
      .def("zero_grad", &train::Solver::zero_grad, "Zeroes every gradient.")
      .def_property_readonly(
          "lr",
          [](const train::Solver& self) { return self.options().base_lr(); })
      .def(
          "state",
          &train::Solver::state,
          "(name, tensor) of the solver's histories: history.<parameter> "
          "and, for adadelta and adam, history2.<parameter>.");

  m.def(
      "evaluate",
      [](const py::object& model, py::object dataset, const std::string& amp) {
        models::FcnNet holder(network_of(model));
        auto data = as_dataset(dataset);
        const auto precision = resolve_precision(amp, holder->device().type());
        py::gil_scoped_release release;
        auto result = train::evaluate(holder, *data, precision);
        py::gil_scoped_acquire acquire;
        return py::make_tuple(result.loss, result.confusion);
      },
      py::arg("model"),
      py::arg("dataset"),
      py::arg("amp") = "fp32",
      "(mean loss, ConfusionMatrix) over a dataset, on the model's device, in "
      "amp precision (fp32, bf16, fp16 or auto).");
  m.def(
      "pretrain",
      [](py::object train_data,
         py::object val_data,
         int64_t num_classes,
         const std::string& output_dir,
         int64_t epochs,
         double lr,
         int64_t iter_size,
         uint64_t seed,
         int threads,
         bool progress,
         const std::string& device,
         std::vector<std::string> class_names,
         double context,
         int64_t min_pixels,
         bool background) {
        auto defaults = train::pretrain_defaults();
        auto solver = defaults.solver().base_lr(lr).iter_size(iter_size);
        train::check_solver_options(solver);
        const auto options = defaults.epochs(epochs)
                                 .solver(solver)
                                 .output_dir(output_dir)
                                 .seed(seed)
                                 .threads(threads)
                                 .progress(progress)
                                 .device(device);
        const auto crops = data::CropOptions()
                               .context(context)
                               .min_pixels(min_pixels)
                               .background(background);
        auto train = as_dataset(train_data);
        auto val = as_dataset(val_data);
        py::gil_scoped_release release;
        auto trainer = train::classifier_trainer(
            train, val, num_classes, options, crops, std::move(class_names));
        trainer->train(); // rank 0 exports the classifier
        const auto weights = caffe::classifier_caffemodel_path(output_dir);
        py::gil_scoped_acquire acquire;
        return py::make_tuple(network_module(trainer->model().ptr()), weights);
      },
      py::arg("train_data"),
      py::arg("val_data") = py::none(),
      py::arg("num_classes") = 21,
      py::arg("output_dir") = "pretrain_out",
      py::arg("epochs") = 10,
      py::arg("lr") = 1e-3,
      py::arg("iter_size") = 32,
      py::arg("seed") = 0,
      py::arg("threads") = 0,
      py::arg("progress") = false,
      py::arg("device") = "cpu",
      py::arg("class_names") = std::vector<std::string>{},
      py::arg("context") = 0.15,
      py::arg("min_pixels") = 64,
      py::arg("background") = true,
      "Trains bvlc_alexnet's classifier on object crops of a segmentation "
      "dataset's labels; returns (classifier, path of "
      "output_dir/alexnet.caffemodel in bvlc_alexnet's layout, for "
      "surgery() or fcn_alexnet's load_caffemodel).");
  m.def(
      "segmentation_loss",
      [](const torch::Tensor& scores,
         const torch::Tensor& labels,
         int64_t ignore_label,
         bool normalize) {
        return train::segmentation_loss(
            scores, labels, models::LossSpec{ignore_label, normalize});
      },
      py::arg("scores"),
      py::arg("labels"),
      py::arg("ignore_label") = 255,
      py::arg("normalize") = true,
      "Cross-entropy over pixels != ignore_label: averaged (normalize) or "
      "summed and divided by the batch size.");
}

} // namespace bindings
} // namespace fcnlab
