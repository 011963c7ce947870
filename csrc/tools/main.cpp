#include "commands.h"

#include <fcnlab/data/image_io.h>
#include <fcnlab/util/memory.h>
#include <fcnlab/util/winograd.h>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <iostream>
#include <regex>
#include <thread>

#include <unistd.h>

namespace fcnlab {
namespace tools {

std::pair<int64_t, int64_t> parse_size(const std::string& text) {
  static const std::regex size("^([0-9]+)x([0-9]+)$");
  std::smatch match;
  if (!std::regex_match(text, match, size)) {
    throw CLI::ValidationError(
        "size", "expected HEIGHTxWIDTH such as 375x500, got '" + text + "'");
  }
  return {std::stoll(match[1].str()), std::stoll(match[2].str())};
}

namespace {

// A number that `accept` approves, described as `range` in messages.
CLI::Validator number_in(
    const std::string& range,
    const std::function<bool(double)>& accept) {
  return CLI::Validator(
      [range, accept](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !accept(value)) {
          return "value " + text + " is not " + range;
        }
        return "";
      },
      range);
}

} // namespace

CLI::Validator fraction_below_one() {
  return number_in("in [0, 1)", [](double v) { return v >= 0 && v < 1; });
}

CLI::Validator positive_number() {
  return number_in("> 0", [](double v) { return v > 0; });
}

CLI::Validator non_negative_number() {
  return number_in(">= 0", [](double v) { return v >= 0; });
}

std::function<void(size_t, size_t)> progress_line(const std::string& what) {
  // A terminal gets one line rewritten every 1%; a log gets a line per 10%.
  const bool terminal = ::isatty(STDERR_FILENO);
  return [what, terminal](size_t done, size_t total) {
    const size_t step = std::max<size_t>(1, total / (terminal ? 100 : 10));
    if (done % step == 0 || done == total) {
      std::cerr << (terminal ? "\r" : "") << what << ": " << done << "/"
                << total << (!terminal || done == total ? "\n" : "")
                << std::flush;
    }
  };
}

} // namespace tools
} // namespace fcnlab

int main(int argc, char** argv) {
  // Large tensors come and go every iteration: keep their pages.
  fcnlab::reuse_freed_memory();
  CLI::App app{
      "fcnlab: fully convolutional semantic segmentation with LibTorch "
      "(FCN-Alexnet, FCN-32s/16s/8s, Caffe prototxts; the DIGITS/Caffe "
      "workflow without Caffe)"};
  app.require_subcommand(1);
  // Global options such as --threads may also follow the subcommand.
  app.fallthrough();
  app.set_version_flag("--version", "fcnlab 0.1.0");
  // Debian's LibTorch starts with one thread; use every core unless told.
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  app.add_option("--threads", threads, "CPU threads for tensor math")
      ->check(fcnlab::tools::positive_number());
  int64_t max_image_pixels = 0;
  app.add_option(
         "--max-image-pixels",
         max_image_pixels,
         "Refuse images and labels larger than this many pixels (default "
         "100000000, or $FCNLAB_MAX_IMAGE_PIXELS)")
      ->check(fcnlab::tools::positive_number());
  bool direct_convolutions = false;
  app.add_flag(
      "--no-winograd",
      direct_convolutions,
      "Run float32 inference's 3x3 convolutions by the direct algorithm "
      "instead of Winograd's (slower; results differ by rounding only)");
  app.parse_complete_callback([&] {
    at::set_num_threads(threads);
    if (direct_convolutions) {
      fcnlab::set_winograd_convolutions(false);
    }
    if (max_image_pixels > 0) {
      fcnlab::data::set_max_image_pixels(max_image_pixels);
    }
  });

  fcnlab::tools::add_synth_voc_command(app);
  fcnlab::tools::add_prepare_voc_command(app);
  fcnlab::tools::add_prepare_sbd_command(app);
  fcnlab::tools::add_pretrain_command(app);
  fcnlab::tools::add_create_db_command(app);
  fcnlab::tools::add_explore_db_command(app);
  fcnlab::tools::add_train_command(app);
  fcnlab::tools::add_eval_command(app);
  fcnlab::tools::add_segment_command(app);
  fcnlab::tools::add_surgery_command(app);
  fcnlab::tools::add_convolutionalize_command(app);
  fcnlab::tools::add_export_command(app);
  fcnlab::tools::add_summary_command(app);
  fcnlab::tools::add_network_command(app);
#ifdef FCNLAB_HAS_SERVE
  fcnlab::tools::add_serve_command(app);
#endif
  fcnlab::tools::add_upgrade_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const c10::Error& error) {
    std::cerr << "error: " << error.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
