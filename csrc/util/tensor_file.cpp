#include "detail/tensor_file.h"

#include "detail/tar.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace fcnlab {
namespace util {
namespace detail {
namespace {

constexpr const char* kHeaderEntry = "header.json";
constexpr int64_t kMaxHeaderBytes = int64_t(64) << 20;

const std::vector<std::pair<const char*, at::ScalarType>>& dtype_names() {
  static const std::vector<std::pair<const char*, at::ScalarType>> names = {
      {"float32", at::kFloat},
      {"float64", at::kDouble},
      {"float16", at::kHalf},
      {"bfloat16", at::kBFloat16},
      {"int64", at::kLong},
      {"int32", at::kInt},
      {"uint8", at::kByte},
      {"bool", at::kBool}};
  return names;
}

const char* dtype_name(at::ScalarType dtype) {
  for (const auto& [name, type] : dtype_names()) {
    if (type == dtype) {
      return name;
    }
  }
  TORCH_CHECK(false, "tensor files do not store ", dtype, " tensors");
}

std::string tensor_entry_name(size_t index) {
  return "tensors/" + std::to_string(index);
}

// Bytes of a tensor of `shape` and `dtype`; -1 when the product overflows
// or a dimension is negative.
int64_t byte_size(const std::vector<int64_t>& shape, at::ScalarType dtype) {
  int64_t bytes = static_cast<int64_t>(c10::elementSize(dtype));
  for (const int64_t dim : shape) {
    if (dim < 0 || __builtin_mul_overflow(bytes, dim, &bytes)) {
      return -1;
    }
  }
  return bytes;
}

} // namespace

NamedTensors module_tensors(
    const torch::nn::Module& module,
    const std::string& prefix) {
  NamedTensors tensors;
  for (const auto& item : module.named_parameters()) {
    tensors.emplace_back(prefix + item.key(), item.value());
  }
  for (const auto& item : module.named_buffers()) {
    tensors.emplace_back(prefix + item.key(), item.value());
  }
  return tensors;
}

void write_tensor_file(
    const std::string& path,
    nlohmann::json header,
    const NamedTensors& tensors) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, tensor] : tensors) {
    list.push_back(
        {{"name", name},
         {"dtype", dtype_name(tensor.scalar_type())},
         {"shape", tensor.sizes().vec()}});
  }
  header["tensors"] = std::move(list);
  TarWriter tar(path);
  tar.add(kHeaderEntry, header.dump(1));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor bytes = tensors[i].second.detach().cpu().contiguous();
    tar.add(tensor_entry_name(i), bytes.data_ptr(), bytes.nbytes());
  }
  tar.close();
}

TensorFileReader::TensorFileReader(
    const std::string& path,
    const std::string& what)
    : path_(path), what_(what) {
  std::error_code error;
  const auto file_size = std::filesystem::file_size(path, error);
  TORCH_CHECK(!error, what, ": cannot open ", path, ": ", error.message());
  TORCH_CHECK(
      !is_zip_archive(path),
      where(),
      " is in the zip format of fcnlab 0.1; convert it once with `fcnlab "
      "upgrade ",
      path,
      "`");
  bool has_header = false;
  try {
    tar_ = std::make_unique<TarReader>(path);
    has_header = tar_->next() && tar_->name() == kHeaderEntry &&
        tar_->size() >= 0 && tar_->size() <= kMaxHeaderBytes;
  } catch (const c10::Error&) {
    // not a tar archive at all
  }
  TORCH_CHECK(has_header, where(), " is not an fcnlab ", what, " file");
  try {
    header_ = nlohmann::json::parse(tar_->read());
    TORCH_CHECK(
        header_.is_object() && header_.contains("tensors") &&
            header_.at("tensors").is_array(),
        where(),
        " has no tensor list in its header");
    int64_t total = 0;
    std::set<std::string> names;
    for (const auto& item : header_.at("tensors")) {
      TensorEntry entry;
      entry.name = item.at("name").get<std::string>();
      const auto dtype = item.at("dtype").get<std::string>();
      const auto known = std::find_if(
          dtype_names().begin(), dtype_names().end(), [&](const auto& pair) {
            return dtype == pair.first;
          });
      TORCH_CHECK(
          known != dtype_names().end(),
          where(),
          ": tensor ",
          entry.name,
          " has unknown dtype '",
          dtype,
          "'");
      entry.dtype = known->second;
      entry.shape = item.at("shape").get<std::vector<int64_t>>();
      const int64_t bytes = byte_size(entry.shape, entry.dtype);
      TORCH_CHECK(
          bytes >= 0 && !__builtin_add_overflow(total, bytes, &total) &&
              total <= static_cast<int64_t>(file_size),
          where(),
          " is damaged: its tensors up to ",
          entry.name,
          " (",
          dtype,
          " ",
          item.at("shape").dump(),
          ") need more bytes than the file's ",
          file_size,
          " (cut short?)");
      TORCH_CHECK(
          names.insert(entry.name).second,
          where(),
          " holds tensor ",
          entry.name,
          " twice");
      entries_.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& error) {
    TORCH_CHECK(false, where(), " has a damaged header: ", error.what());
  }
  header_.erase("tensors");
}

TensorFileReader::~TensorFileReader() = default;

std::string TensorFileReader::where() const {
  return what_ + ": " + path_;
}

NamedTensors TensorFileReader::read_tensors(
    const std::map<std::string, at::Tensor>& into) {
  for (const auto& wanted : into) {
    const std::string& name = wanted.first;
    TORCH_CHECK(
        std::any_of(
            entries_.begin(),
            entries_.end(),
            [&](const TensorEntry& entry) { return entry.name == name; }),
        where(),
        " has no tensor ",
        name);
  }
  at::NoGradGuard no_grad; // parameters are filled in place
  NamedTensors others;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const TensorEntry& entry = entries_[i];
    const int64_t bytes = byte_size(entry.shape, entry.dtype);
    bool present = false;
    try {
      present = tar_->next() && tar_->name() == tensor_entry_name(i) &&
          tar_->size() == bytes;
    } catch (const c10::Error& error) {
      TORCH_CHECK(
          false, where(), " is damaged: ", error.what_without_backtrace());
    }
    TORCH_CHECK(
        present,
        where(),
        " is damaged: the bytes of tensor ",
        entry.name,
        " are missing or of the wrong size");
    const auto target = into.find(entry.name);
    at::Tensor destination;
    if (target != into.end()) {
      destination = target->second;
      TORCH_CHECK(
          destination.sizes() == c10::IntArrayRef(entry.shape) &&
              destination.scalar_type() == entry.dtype,
          where(),
          ": tensor ",
          entry.name,
          " is ",
          entry.dtype,
          " ",
          c10::IntArrayRef(entry.shape),
          ", expected ",
          destination.scalar_type(),
          " ",
          destination.sizes());
    }
    const bool in_place = destination.defined() && destination.is_cpu() &&
        destination.is_contiguous();
    at::Tensor buffer = in_place
        ? destination
        : at::empty(entry.shape, at::TensorOptions().dtype(entry.dtype));
    try {
      tar_->read_into(buffer.data_ptr(), static_cast<size_t>(bytes));
    } catch (const c10::Error& error) {
      TORCH_CHECK(
          false, where(), " is damaged: ", error.what_without_backtrace());
    }
    if (!destination.defined()) {
      others.emplace_back(entry.name, buffer);
    } else if (!in_place) {
      destination.copy_(buffer);
    }
  }
  return others;
}

bool is_zip_archive(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' &&
      magic[2] == 3 && magic[3] == 4;
}

} // namespace detail
} // namespace util
} // namespace fcnlab
