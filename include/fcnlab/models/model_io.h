#pragma once

// Deprecated: model files moved to <fcnlab/io/model_file.h>, namespace
// fcnlab::io. This header keeps code written against fcnlab::models
// compiling for one release; only the umbrella header fcnlab/fcnlab.h
// includes it.
#include <fcnlab/io/model_file.h>

namespace fcnlab {
namespace models {

using io::is_model_file;
using io::load_model;
using io::ModelFile;
using io::save_model;
using io::upgrade_legacy_file;

} // namespace models
} // namespace fcnlab
