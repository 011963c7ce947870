#include <fcnlab/data/prepare_voc.h>

#include "../util/detail/tar.h"
#include "detail/archive_files.h"
#include "detail/directory.h"

#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>

namespace fcnlab {
namespace data {
namespace {

namespace fs = std::filesystem;

const std::regex& list_entry() {
  static const std::regex pattern(
      "(^|.*/)VOC2012/ImageSets/Segmentation/(train|val)\\.txt$");
  return pattern;
}

} // namespace

PrepareVocReport prepare_voc(
    const std::string& tar_path,
    const std::string& out_dir,
    const Progress& progress) {
  // Pass 1: the segmentation lists (they may come after the images).
  std::map<std::string, std::vector<std::string>> lists;
  {
    util::detail::TarReader tar(tar_path);
    std::smatch match;
    while (tar.next()) {
      if (tar.is_file() && std::regex_match(tar.name(), match, list_entry())) {
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
        " has no VOC2012/ImageSets/Segmentation/",
        split,
        ".txt (not a VOC 2012 trainval archive?)");
  }
  std::map<std::string, std::string> split_of;
  for (const auto& [split, ids] : lists) {
    for (const auto& id : ids) {
      split_of.emplace(id, split);
    }
  }
  const size_t total = 2 * split_of.size();

  // Pass 2: copy the listed JPEGs and PNGs into a directory beside out_dir.
  detail::StagingDirectory staging(out_dir);
  const fs::path& partial = staging.path();
  for (const char* split : {"train", "val"}) {
    fs::create_directories(partial / split / "images");
    fs::create_directories(partial / split / "labels");
  }
  {
    std::set<std::string> written;
    util::detail::TarReader tar(tar_path);
    std::smatch match;
    while (tar.next()) {
      if (!tar.is_file() ||
          !std::regex_match(tar.name(), match, detail::voc_data_entry())) {
        continue;
      }
      const bool is_image = match[2].str() == "JPEGImages";
      const std::string id = match[3].str();
      const std::string extension = match[4].str();
      const auto split = split_of.find(id);
      if (split == split_of.end() || extension != (is_image ? "jpg" : "png")) {
        continue;
      }
      const fs::path file = partial / split->second /
          (is_image ? "images" : "labels") / (id + "." + extension);
      detail::write_bytes(file.string(), tar.read());
      written.insert(file.filename().string());
      if (progress) {
        progress(written.size(), total);
      }
    }
    for (const auto& [id, split] : split_of) {
      for (const char* kind : {"JPEGImages/%.jpg", "SegmentationClass/%.png"}) {
        std::string name = kind;
        name.replace(name.find('%'), 1, id);
        const std::string file = fs::path(name).filename().string();
        TORCH_CHECK(
            written.count(file),
            "archive ",
            tar_path,
            ": ",
            split,
            ".txt lists ",
            id,
            " but the archive has no VOC2012/",
            name);
      }
    }
  }
  staging.commit();
  return {lists["train"].size(), lists["val"].size()};
}

} // namespace data
} // namespace fcnlab
