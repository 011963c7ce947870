#pragma once

#include <regex>
#include <string>
#include <vector>

namespace fcnlab {
namespace data {
namespace detail {

/// The ids of an image list (one per line, VOC's ImageSets and SBD's
/// train.txt): blank lines and trailing spaces or CRs are skipped; anything
/// but letters, digits, '_', '.' and '-' is a c10::Error naming `archive`
/// and `list`.
std::vector<std::string> parse_ids(
    const std::string& text,
    const std::string& archive,
    const std::string& list);

/// Entries of a VOC archive's images and labels (any year's VOCdevkit):
/// groups 2 JPEGImages or SegmentationClass, 3 the id, 4 the extension.
const std::regex& voc_data_entry();

/// Writes `bytes` to `path`; throws c10::Error naming it when it fails.
void write_bytes(const std::string& path, const std::string& bytes);

} // namespace detail
} // namespace data
} // namespace fcnlab
