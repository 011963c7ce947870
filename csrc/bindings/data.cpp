#include "bindings.h"

#include <fcnlab/data/dataset_dir.h>
#include <fcnlab/data/explore.h>
#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>
#include <fcnlab/data/lmdb_db.h>
#include <fcnlab/data/prepare_voc.h>
#include <fcnlab/data/sbd.h>
#include <fcnlab/data/synthetic.h>

#include <pybind11/stl.h>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {

data::AugmentOptions augment_options(const py::dict& keywords) {
  data::AugmentOptions options;
  for (const auto& [key, value] : keywords) {
    const auto name = key.cast<std::string>();
    if (name == "flip") {
      options.flip(value.cast<bool>());
    } else if (name == "scale") {
      const auto range = value.cast<std::pair<double, double>>();
      options.scale_min(range.first).scale_max(range.second);
    } else if (name == "rotation") {
      options.rotation(value.cast<double>());
    } else if (name == "quarter_turns") {
      options.quarter_turns(value.cast<bool>());
    } else if (name == "crop") {
      const auto size = value.cast<std::pair<int64_t, int64_t>>();
      options.crop_height(size.first).crop_width(size.second);
    } else if (name == "hue") {
      options.hue(value.cast<double>());
    } else if (name == "saturation") {
      options.saturation(value.cast<double>());
    } else if (name == "brightness") {
      options.brightness(value.cast<double>());
    } else if (name == "noise") {
      options.noise(value.cast<double>());
    } else {
      throw py::value_error("unknown augmentation '" + name + "'");
    }
  }
  data::check_augment_options(options);
  return options;
}
namespace {

// Map-style datasets for torch.utils.data.DataLoader: len() and [i] ->
// (image 3xHxW float BGR, label HxW int64).
template <typename Dataset>
py::class_<Dataset, std::shared_ptr<Dataset>> bind_dataset(
    py::module& m,
    const char* name,
    const char* doc) {
  return py::class_<Dataset, std::shared_ptr<Dataset>>(m, name, doc)
      .def("__len__", [](const Dataset& self) { return self.size().value(); })
      .def(
          "__getitem__",
          [](Dataset& self, int64_t index) {
            const auto size = static_cast<int64_t>(self.size().value());
            if (index < 0) {
              index += size;
            }
            if (index < 0 || index >= size) {
              throw py::index_error("index out of range");
            }
            data::SegmentationExample example;
            {
              py::gil_scoped_release release;
              example = self.get(static_cast<size_t>(index));
            }
            return py::make_tuple(example.data, example.target);
          },
          py::arg("index"))
      .def(
          "name",
          &Dataset::name,
          py::arg("index"),
          "File basename or database key.")
      .def("__repr__", [name](const Dataset& self) {
        return std::string(name) + "(" + std::to_string(self.size().value()) +
            " samples)";
      });
}

} // namespace

void bind_data(py::module& m) {
  bind_dataset<data::VOCSegmentation>(
      m, "VOCSegmentation", "Image and label folders matched by basename.")
      .def(
          py::init([](const std::string& images,
                      const std::string& labels,
                      int64_t num_classes) {
            return std::make_shared<data::VOCSegmentation>(
                images, labels, data::VocOptions().num_classes(num_classes));
          }),
          py::arg("images"),
          py::arg("labels"),
          py::arg("num_classes") = 21)
      .def_static(
          "prepared",
          [](const std::string& root,
             const std::string& split,
             int64_t num_classes) {
            return data::VOCSegmentation::prepared(
                root, split, data::VocOptions().num_classes(num_classes));
          },
          py::arg("root"),
          py::arg("split"),
          py::arg("num_classes") = 21,
          "A split ('train' or 'val') of a prepare_voc output folder.");
  bind_dataset<data::LmdbSegmentation>(
      m, "LmdbSegmentation", "A create-db (or DIGITS) train_db / val_db.")
      .def(
          py::init<const std::string&, int64_t>(),
          py::arg("db_dir"),
          py::arg("num_classes") = 21);

  m.def(
      "synth_voc",
      [](const std::string& path,
         int64_t images,
         uint64_t seed,
         int64_t max_side,
         double val_fraction,
         bool sbd) {
        py::gil_scoped_release release;
        const auto options = data::SynthVocOptions()
                                 .images(images)
                                 .seed(seed)
                                 .max_side(max_side)
                                 .val_fraction(val_fraction);
        sbd ? data::write_synthetic_sbd(path, options)
            : data::write_synthetic_voc(path, options);
      },
      py::arg("path"),
      py::arg("images") = 60,
      py::arg("seed") = 0,
      py::arg("max_side") = 500,
      py::arg("val_fraction") = 0.25,
      py::arg("sbd") = false,
      "Writes a synthetic archive with VOCtrainval_11-May-2012.tar's layout, "
      "or with SBD's benchmark.tgz layout (sbd=True).");
  m.def(
      "max_image_pixels",
      &data::max_image_pixels,
      "The largest image or label, in pixels, that reading accepts.");
  m.def(
      "augment",
      [](const torch::Tensor& image,
         const torch::Tensor& label,
         uint64_t seed,
         const py::kwargs& options) {
        const auto out =
            data::augment({image, label}, augment_options(options), seed);
        return std::make_pair(out.data, out.target);
      },
      py::arg("image"),
      py::arg("label"),
      py::arg("seed") = 0,
      "A training sample (image 3 x H x W float BGR, label H x W int64) "
      "transformed as training with augmentation draws it: keywords flip, "
      "scale=(min, max), rotation, quarter_turns, crop=(h, w), hue, "
      "saturation, brightness, noise.");
  m.def(
      "set_max_image_pixels",
      &data::set_max_image_pixels,
      py::arg("pixels"),
      "Sets the largest image or label, in pixels, that reading accepts "
      "(headers are checked before decoding).");
  m.def(
      "prepare_voc",
      [](const std::string& archive, const std::string& out) {
        py::gil_scoped_release release;
        const auto report = data::prepare_voc(archive, out);
        return std::make_pair(report.train, report.val);
      },
      py::arg("archive"),
      py::arg("out"),
      "VOC trainval archive -> out/{train,val}/{images,labels}; returns (train, val) counts.");
  m.def(
      "prepare_sbd",
      [](const std::string& archive,
         const std::string& out,
         const std::string& fcn_val_ids,
         const std::string& voc_archive) {
        py::gil_scoped_release release;
        const auto report =
            data::prepare_sbd(archive, out, nullptr, fcn_val_ids, voc_archive);
        return std::make_pair(report.train, report.val);
      },
      py::arg("archive"),
      py::arg("out"),
      py::arg("fcn_val_ids") = "",
      py::arg("voc_archive") = "",
      "SBD's benchmark.tgz -> out/{train,val}/{images,labels} (FCN's split "
      "with fcn_val_ids and voc_archive); returns (train, val) counts.");
  m.def(
      "read_sbd_label",
      &data::read_sbd_label,
      py::arg("path"),
      "GTcls.Segmentation of an SBD cls/*.mat file as H x W uint8.");
  m.def(
      "create_db",
      [](const std::string& train_images,
         const std::string& train_labels,
         const std::string& out,
         const std::string& val_images,
         const std::string& val_labels,
         double val_percent,
         const std::string& feature_encoding,
         const std::string& label_encoding,
         bool skip_bad) {
        data::CreateDbOptions options;
        options.train_images = train_images;
        options.train_labels = train_labels;
        options.val_images = val_images;
        options.val_labels = val_labels;
        options.val_percent = val_percent;
        options.feature_encoding = data::parse_encoding(feature_encoding);
        options.label_encoding = data::parse_encoding(label_encoding);
        options.skip_bad = skip_bad;
        options.out_dir = out;
        py::gil_scoped_release release;
        const auto report = data::create_db(options);
        return std::make_tuple(report.train, report.val, report.skipped);
      },
      py::arg("train_images"),
      py::arg("train_labels"),
      py::arg("out"),
      py::arg("val_images") = "",
      py::arg("val_labels") = "",
      py::arg("val_percent") = 0.0,
      py::arg("feature_encoding") = "png",
      py::arg("label_encoding") = "png",
      py::arg("skip_bad") = false,
      "Writes DIGITS-compatible LMDBs; returns (train, val, skipped).");
  m.def(
      "explore",
      [](py::object dataset,
         const std::string& montage,
         size_t count,
         const py::dict& augment,
         uint64_t seed) {
        const auto augmentation = augment_options(augment);
        std::shared_ptr<data::SegmentationDataset> source;
        if (py::isinstance<data::VOCSegmentation>(dataset)) {
          source = dataset.cast<std::shared_ptr<data::VOCSegmentation>>();
        } else {
          source = dataset.cast<std::shared_ptr<data::LmdbSegmentation>>();
        }
        py::gil_scoped_release release;
        const auto stats = data::dataset_stats(*source);
        if (!montage.empty()) {
          data::write_montage(
              *source,
              montage,
              count,
              data::voc_palette(),
              /*tile_height=*/128,
              augmentation,
              seed);
        }
        std::map<std::string, size_t> sizes;
        for (const auto& [size, number] : stats.sizes) {
          sizes
              [std::to_string(size.first) + "x" + std::to_string(size.second)] =
                  number;
        }
        py::gil_scoped_acquire acquire;
        py::dict out;
        out["entries"] = stats.entries;
        out["sizes"] = sizes;
        out["class_pixels"] = stats.class_pixels;
        out["text"] = stats.to_string(data::voc_class_names());
        return out;
      },
      py::arg("dataset"),
      py::arg("montage") = "",
      py::arg("count") = 8,
      py::arg("augment") = py::dict(),
      py::arg("seed") = 0,
      "Entry count, image sizes (HxW -> count), pixels per label value, and "
      "optionally a montage PNG of images beside their labels (augmented as "
      "training draws them with `seed` when `augment` has keywords of "
      "augment()).");
  m.def(
      "voc_palette",
      [] { return data::palette_tensor(data::voc_palette()); },
      "VOC's palette as a 256 x 3 uint8 RGB tensor.");
  m.def("voc_class_names", &data::voc_class_names);
  m.def("read_class_names", &data::read_class_names, py::arg("path"));
  m.def(
      "read_label",
      [](const std::string& path) { return data::read_label(path); },
      py::arg("path"),
      "Class indices (H x W uint8) of a paletted or grayscale label.");
  m.def(
      "write_label",
      [](const torch::Tensor& label, const std::string& path) {
        data::write_label_png(label, path);
      },
      py::arg("label"),
      py::arg("path"),
      "Writes H x W uint8 indices as a VOC-paletted PNG.");
  m.def(
      "read_image",
      [](const std::string& path) { return data::read_image(path); },
      py::arg("path"),
      "H x W x 3 uint8 BGR.");
  m.def(
      "colorize",
      [](const torch::Tensor& label) {
        return data::colorize(label, data::voc_palette());
      },
      py::arg("label"),
      "H x W labels -> H x W x 3 uint8 RGB through VOC's palette.");
}

} // namespace bindings
} // namespace fcnlab
