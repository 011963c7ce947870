#include <fcnlab/data/sbd.h>

#include "../util/detail/tar.h"
#include "detail/archive_files.h"
#include "detail/directory.h"

#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>
#include <fcnlab/data/palette.h>
#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <matio.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>

namespace fcnlab {
namespace data {
namespace {

namespace fs = std::filesystem;

struct MatCloser {
  void operator()(mat_t* mat) const {
    Mat_Close(mat);
  }
};
struct VarFreer {
  void operator()(matvar_t* var) const {
    Mat_VarFree(var);
  }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

// Column-major MATLAB data of type T as an H x W uint8 tensor.
template <typename T>
at::Tensor classes_from(
    const void* data,
    int64_t height,
    int64_t width,
    const std::string& path) {
  const auto* values = static_cast<const T*>(data);
  auto out = at::empty({height, width}, at::kByte);
  auto* classes = out.data_ptr<uint8_t>();
  for (int64_t x = 0; x < width; ++x) {
    for (int64_t y = 0; y < height; ++y) {
      const T value = values[y + x * height];
      TORCH_CHECK(
          value >= 0 && value <= 255 && value == T(int64_t(value)),
          path,
          ": GTcls.Segmentation holds ",
          double(value),
          ", not a class index 0..255");
      classes[y * width + x] = static_cast<uint8_t>(value);
    }
  }
  return out;
}

// The field `name` of the first element of struct `var`, or null. matio's
// own lookup trusts the variable's bookkeeping, which a damaged file can
// leave null; every piece is checked here first.
const matvar_t* struct_field(const matvar_t* var, const char* name) {
  if (var == nullptr || var->class_type != MAT_C_STRUCT || var->rank < 1 ||
      var->dims == nullptr || var->data == nullptr) {
    return nullptr;
  }
  for (int i = 0; i < var->rank; ++i) {
    if (var->dims[i] == 0) {
      return nullptr;
    }
  }
  auto* mutable_var = const_cast<matvar_t*>(var);
  const unsigned fields = Mat_VarGetNumberOfFields(mutable_var);
  char* const* names = Mat_VarGetStructFieldnames(mutable_var);
  if (fields == 0 || names == nullptr ||
      var->nbytes / sizeof(matvar_t*) < fields) {
    return nullptr;
  }
  for (unsigned i = 0; i < fields; ++i) {
    if (names[i] != nullptr && std::strcmp(names[i], name) == 0) {
      return static_cast<matvar_t* const*>(var->data)[i];
    }
  }
  return nullptr;
}

const std::regex& sbd_list_entry() {
  static const std::regex pattern("(^|.*/)dataset/(train|val)\\.txt$");
  return pattern;
}

const std::regex& sbd_data_entry() {
  static const std::regex pattern(
      "(^|.*/)dataset/(img|cls)/([^/]+)\\.(jpg|mat)$");
  return pattern;
}

// libmatio trusts the sizes a file declares: it allocates whatever a damaged
// header claims and reads a truncated compressed variable as zeros. So the
// file's structure is checked first, as MAT v5 defines it: every tagged
// element (inflated where compressed, within a bound) must fit in its
// parent, and every array's element count (dims, and nzmax of sparse ones)
// must stay within max_image_pixels().
class Mat5Checker {
 public:
  Mat5Checker(std::string path, bool swap)
      : path_(std::move(path)),
        swap_(swap),
        inflate_limit_(8 * uint64_t(max_image_pixels()) + (1u << 20)) {}

  void elements(const uint8_t* data, size_t size, int depth) {
    TORCH_CHECK(depth <= 32, path_, ": arrays nested too deeply");
    size_t at = 0;
    while (at < size) {
      TORCH_CHECK(size - at >= 8, path_, " is truncated inside a data element");
      const uint32_t first = word(data + at);
      if ((first >> 16) != 0) { // a small element: 1-4 bytes inside its tag
        TORCH_CHECK(
            (first >> 16) <= 4, path_, ": a small data element over 4 bytes");
        at += 8;
        continue;
      }
      const uint64_t length = word(data + at + 4);
      TORCH_CHECK(
          length <= size - at - 8,
          path_,
          " is truncated: a data element of ",
          length,
          " bytes at offset ",
          at,
          " ends past its ",
          size - at - 8,
          " bytes");
      const uint8_t* body = data + at + 8;
      if (first == kMatrix) {
        matrix(body, size_t(length), depth);
      } else if (first == kCompressed) {
        const std::string inflated = inflate(body, size_t(length));
        elements(
            reinterpret_cast<const uint8_t*>(inflated.data()),
            inflated.size(),
            depth + 1);
      }
      const uint64_t step =
          first == kCompressed ? length : (length + 7) / 8 * 8;
      at += size_t(std::min<uint64_t>(8 + step, size - at));
    }
  }

 private:
  static constexpr uint32_t kInt32 = 5, kUInt32 = 6, kMatrix = 14,
                            kCompressed = 15;

  uint32_t word(const uint8_t* at) const {
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      value |= uint32_t(at[i]) << (swap_ ? 8 * (3 - i) : 8 * i);
    }
    return value;
  }

  // An array: flags (class, nzmax), dimensions, name, then its parts.
  void matrix(const uint8_t* data, size_t size, int depth) {
    if (size == 0) {
      return; // an empty array
    }
    TORCH_CHECK(
        size >= 16 && word(data) == kUInt32 && word(data + 4) == 8,
        path_,
        ": an array without its flags");
    const uint64_t nzmax = word(data + 12);
    TORCH_CHECK(
        nzmax <= uint64_t(max_image_pixels()),
        path_,
        ": a sparse array declares ",
        nzmax,
        " values");
    TORCH_CHECK(
        size >= 24 && word(data + 16) == kInt32 && word(data + 20) % 4 == 0 &&
            word(data + 20) <= size - 24,
        path_,
        ": an array without its dimensions");
    uint64_t count = 1;
    for (uint32_t i = 0; i < word(data + 20) / 4; ++i) {
      const uint64_t dim = word(data + 24 + 4 * i);
      TORCH_CHECK(
          dim <= uint64_t(max_image_pixels()) &&
              count * std::max<uint64_t>(dim, 1) <=
                  uint64_t(max_image_pixels()),
          path_,
          ": an array declares more than ",
          max_image_pixels(),
          " elements");
      count *= std::max<uint64_t>(dim, 1);
    }
    elements(data, size, depth + 1);
  }

  std::string inflate(const uint8_t* data, size_t size) {
    z_stream stream{};
    TORCH_CHECK(inflateInit(&stream) == Z_OK, path_, ": zlib failed");
    stream.next_in = const_cast<Bytef*>(data);
    stream.avail_in = static_cast<uInt>(size);
    std::string out;
    char buffer[1 << 16];
    int status = Z_OK;
    while (status == Z_OK) {
      stream.next_out = reinterpret_cast<Bytef*>(buffer);
      stream.avail_out = sizeof(buffer);
      status = ::inflate(&stream, Z_NO_FLUSH);
      out.append(buffer, sizeof(buffer) - stream.avail_out);
      if (out.size() > inflate_limit_) {
        status = Z_MEM_ERROR;
      }
    }
    inflateEnd(&stream);
    TORCH_CHECK(
        status == Z_STREAM_END,
        path_,
        ": a compressed variable is damaged or truncated",
        status == Z_MEM_ERROR ? " (or inflates past the pixel limit)" : "");
    return out;
  }

  std::string path_;
  bool swap_;
  uint64_t inflate_limit_;
};

void check_mat5_file(const std::string& path) {
  const std::string bytes = util::read_file(path, "MAT file");
  TORCH_CHECK(
      bytes.size() >= 128, path, " is not a readable MAT file (too short)");
  const bool swap = bytes.compare(126, 2, "IM") != 0;
  TORCH_CHECK(
      !swap || bytes.compare(126, 2, "MI") == 0,
      path,
      " is not a readable MAT file (no v5 endian mark)");
  const auto version = static_cast<uint8_t>(bytes[swap ? 124 : 125]);
  if (version == 2) {
    return; // MATLAB 7.3: HDF5, which checks its own structure
  }
  Mat5Checker(path, swap)
      .elements(
          reinterpret_cast<const uint8_t*>(bytes.data()) + 128,
          bytes.size() - 128,
          0);
}

} // namespace

at::Tensor read_sbd_label(const std::string& mat_path) {
  TORCH_CHECK(fs::is_regular_file(mat_path), "cannot open ", mat_path);
  check_mat5_file(mat_path);
  const MatFile mat(Mat_Open(mat_path.c_str(), MAT_ACC_RDONLY));
  TORCH_CHECK(mat, mat_path, " is not a readable MAT file");
  // The header first: sizes are checked before matio allocates the data.
  const MatVar info(Mat_VarReadInfo(mat.get(), "GTcls"));
  TORCH_CHECK(info, mat_path, " has no variable GTcls (not an SBD cls file?)");
  TORCH_CHECK(
      info->class_type == MAT_C_STRUCT, mat_path, ": GTcls is not a struct");
  const matvar_t* shape = struct_field(info.get(), "Segmentation");
  TORCH_CHECK(shape, mat_path, ": GTcls has no field Segmentation");
  TORCH_CHECK(
      shape->rank == 2 && shape->dims && shape->dims[0] > 0 &&
          shape->dims[1] > 0,
      mat_path,
      ": GTcls.Segmentation is not a 2-D matrix");
  const auto height = static_cast<int64_t>(shape->dims[0]);
  const auto width = static_cast<int64_t>(shape->dims[1]);
  TORCH_CHECK(
      height <= max_image_pixels() / width,
      mat_path,
      ": GTcls.Segmentation is ",
      height,
      "x",
      width,
      ", over the limit of ",
      max_image_pixels(),
      " pixels");

  const MatVar gt(Mat_VarRead(mat.get(), "GTcls"));
  TORCH_CHECK(gt, mat_path, ": GTcls cannot be read (damaged file?)");
  const matvar_t* segmentation = struct_field(gt.get(), "Segmentation");
  TORCH_CHECK(
      segmentation && segmentation->rank == 2 && segmentation->dims &&
          segmentation->dims[0] == shape->dims[0] &&
          segmentation->dims[1] == shape->dims[1] && segmentation->data &&
          !segmentation->isComplex,
      mat_path,
      ": GTcls.Segmentation cannot be read (damaged file?)");
  const size_t count = size_t(height) * size_t(width);
  TORCH_CHECK(
      segmentation->nbytes >= count * size_t(segmentation->data_size) &&
          segmentation->data_size > 0,
      mat_path,
      ": GTcls.Segmentation holds fewer values than its size");
  switch (segmentation->class_type) {
    case MAT_C_UINT8:
      return classes_from<uint8_t>(segmentation->data, height, width, mat_path);
    case MAT_C_INT8:
      return classes_from<int8_t>(segmentation->data, height, width, mat_path);
    case MAT_C_UINT16:
      return classes_from<uint16_t>(
          segmentation->data, height, width, mat_path);
    case MAT_C_INT16:
      return classes_from<int16_t>(segmentation->data, height, width, mat_path);
    case MAT_C_UINT32:
      return classes_from<uint32_t>(
          segmentation->data, height, width, mat_path);
    case MAT_C_INT32:
      return classes_from<int32_t>(segmentation->data, height, width, mat_path);
    case MAT_C_DOUBLE:
      return classes_from<double>(segmentation->data, height, width, mat_path);
    case MAT_C_SINGLE:
      return classes_from<float>(segmentation->data, height, width, mat_path);
    default:
      TORCH_CHECK(
          false,
          mat_path,
          ": GTcls.Segmentation is not a numeric matrix (MATLAB class ",
          int(segmentation->class_type),
          ")");
  }
}

void write_sbd_label(const std::string& mat_path, const at::Tensor& label) {
  TORCH_CHECK_VALUE(
      label.dim() == 2 && label.scalar_type() == at::kByte,
      "an SBD label is H x W uint8, got ",
      label.sizes());
  // MATLAB stores columns first.
  auto columns = label.t().contiguous();
  std::vector<double> present;
  const auto counts = at::bincount(label.flatten().to(at::kLong), {}, 256);
  for (int64_t c = 1; c < 256; ++c) {
    if (counts[c].item<int64_t>() > 0) {
      present.push_back(double(c));
    }
  }
  fs::remove(mat_path);
  const MatFile mat(Mat_CreateVer(mat_path.c_str(), nullptr, MAT_FT_MAT5));
  TORCH_CHECK(mat, "cannot create ", mat_path);
  size_t dims[2] = {size_t(label.size(0)), size_t(label.size(1))};
  size_t present_dims[2] = {present.size(), 1};
  size_t one[2] = {1, 1};
  const char* fields[] = {"Segmentation", "CategoriesPresent"};
  MatVar gt(Mat_VarCreateStruct("GTcls", 2, one, fields, 2));
  // The struct owns its fields once set; MAT_F_DONT_COPY_DATA: matio reads
  // the buffers in place until written.
  Mat_VarSetStructFieldByName(
      gt.get(),
      "Segmentation",
      0,
      Mat_VarCreate(
          nullptr,
          MAT_C_UINT8,
          MAT_T_UINT8,
          2,
          dims,
          columns.data_ptr(),
          MAT_F_DONT_COPY_DATA));
  Mat_VarSetStructFieldByName(
      gt.get(),
      "CategoriesPresent",
      0,
      Mat_VarCreate(
          nullptr,
          MAT_C_DOUBLE,
          MAT_T_DOUBLE,
          2,
          present_dims,
          present.data(),
          MAT_F_DONT_COPY_DATA));
  TORCH_CHECK(
      Mat_VarWrite(mat.get(), gt.get(), MAT_COMPRESSION_ZLIB) == 0,
      "cannot write ",
      mat_path);
}

PrepareVocReport prepare_sbd(
    const std::string& tar_path,
    const std::string& out_dir,
    const Progress& progress,
    const std::string& fcn_val_ids,
    const std::string& voc_archive) {
  TORCH_CHECK_VALUE(
      fcn_val_ids.empty() == voc_archive.empty(),
      "FCN's split needs both the val id list and the VOC archive");
  std::map<std::string, std::vector<std::string>> lists;
  {
    util::detail::TarReader tar(tar_path);
    std::smatch match;
    while (tar.next()) {
      if (tar.is_file() &&
          std::regex_match(tar.name(), match, sbd_list_entry())) {
        const std::string split = match[2].str();
        lists[split] = detail::parse_ids(tar.read(), tar_path, split + ".txt");
      }
    }
  }
  for (const char* split : {"train", "val"}) {
    TORCH_CHECK(
        lists.count(split),
        "archive ",
        tar_path,
        " has no dataset/",
        split,
        ".txt (not SBD's benchmark.tgz?)");
  }
  // From SBD: id -> split. FCN's split trains on SBD's train list and takes
  // val from VOC.
  std::map<std::string, std::string> from_sbd, from_voc;
  if (!fcn_val_ids.empty()) {
    for (const auto& id : detail::parse_ids(
             util::read_file(fcn_val_ids, "val id list"),
             fcn_val_ids,
             "the val id list")) {
      from_voc.emplace(id, "val");
    }
    for (const auto& id : lists["train"]) {
      if (!from_voc.count(id)) {
        from_sbd.emplace(id, "train");
      }
    }
  } else {
    for (const char* split : {"train", "val"}) {
      for (const auto& id : lists[split]) {
        from_sbd.emplace(id, split);
      }
    }
  }
  const size_t total = 2 * (from_sbd.size() + from_voc.size());
  size_t done = 0;
  PrepareVocReport report;
  for (const auto* chosen : {&from_sbd, &from_voc}) {
    for (const auto& [id, split] : *chosen) {
      (split == "train" ? report.train : report.val) += 1;
    }
  }

  detail::StagingDirectory staging(out_dir);
  const fs::path& partial = staging.path();
  for (const char* split : {"train", "val"}) {
    fs::create_directories(partial / split / "images");
    fs::create_directories(partial / split / "labels");
  }
  std::set<std::string> written;
  const auto copy_from = [&](const std::string& archive,
                             const std::regex& pattern,
                             const std::map<std::string, std::string>& wanted,
                             const std::string& image_dir) {
    util::detail::TarReader tar(archive);
    std::smatch match;
    while (tar.next()) {
      if (!tar.is_file() || !std::regex_match(tar.name(), match, pattern)) {
        continue;
      }
      const bool is_image = match[2].str() == image_dir;
      const std::string id = match[3].str();
      const std::string extension = match[4].str();
      const auto split = wanted.find(id);
      if (split == wanted.end() ||
          (is_image ? extension != "jpg" : extension == "jpg")) {
        continue;
      }
      const fs::path folder =
          partial / split->second / (is_image ? "images" : "labels");
      if (is_image) {
        detail::write_bytes((folder / (id + ".jpg")).string(), tar.read());
        written.insert(id + ".jpg");
      } else if (extension == "png") {
        detail::write_bytes((folder / (id + ".png")).string(), tar.read());
        written.insert(id + ".png");
      } else {
        // libmatio reads files: the .mat goes through a temporary one.
        const fs::path mat = partial / (id + ".mat");
        detail::write_bytes(mat.string(), tar.read());
        at::Tensor label;
        try {
          label = read_sbd_label(mat.string());
        } catch (const c10::Error& error) {
          fs::remove(mat);
          TORCH_CHECK(
              false,
              "archive ",
              archive,
              ": ",
              tar.name(),
              ": ",
              error.what_without_backtrace());
        }
        fs::remove(mat);
        write_label_png(
            label, (folder / (id + ".png")).string(), voc_palette());
        written.insert(id + ".png");
      }
      if (progress) {
        progress(++done, total);
      }
    }
    for (const auto& [id, split] : wanted) {
      for (const char* extension : {".jpg", ".png"}) {
        TORCH_CHECK(
            written.count(id + extension),
            "archive ",
            archive,
            " has no ",
            std::string(extension) == ".jpg" ? "image" : "label",
            " of ",
            id,
            ", which the ",
            split,
            " list names");
      }
    }
  };
  copy_from(tar_path, sbd_data_entry(), from_sbd, "img");
  if (!from_voc.empty()) {
    copy_from(voc_archive, detail::voc_data_entry(), from_voc, "JPEGImages");
  }
  staging.commit();
  return report;
}

} // namespace data
} // namespace fcnlab
