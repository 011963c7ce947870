#include "detail/datum.h"

#include "caffe.pb.h"

#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace fcnlab {
namespace data {
namespace detail {

std::string encode_datum(const at::Tensor& hwc, const std::string& encoding) {
  ::caffe::Datum datum;
  datum.set_channels(static_cast<int>(hwc.size(2)));
  datum.set_height(static_cast<int>(hwc.size(0)));
  datum.set_width(static_cast<int>(hwc.size(1)));
  if (encoding.empty()) {
    // Caffe's raw layout: C x H x W bytes, BGR.
    const auto chw = hwc.permute({2, 0, 1}).contiguous();
    datum.set_data(chw.data_ptr<uint8_t>(), chw.numel());
  } else {
    datum.set_data(encode_image(hwc, encoding));
    datum.set_encoded(true);
  }
  return datum.SerializeAsString();
}

at::Tensor decode_datum(
    const std::string& bytes,
    const std::string& where,
    bool label) {
  ::caffe::Datum datum;
  TORCH_CHECK(
      datum.ParseFromString(bytes), "lmdb ", where, " is not a Caffe Datum");
  TORCH_CHECK(
      datum.float_data_size() == 0,
      "lmdb ",
      where,
      " holds float_data; fcnlab reads byte datums only");
  if (datum.encoded()) {
    return label ? decode_label(datum.data(), where).unsqueeze(2)
                 : decode_image(datum.data(), where, ChannelConversion::kBgr);
  }
  const int64_t c = datum.channels(), h = datum.height(), w = datum.width();
  // Each size is below 2^31, so the product of two cannot overflow.
  const int64_t bytes_per_channel = h * w;
  const int64_t size = static_cast<int64_t>(datum.data().size());
  TORCH_CHECK(
      c > 0 && h > 0 && w > 0 && size % c == 0 && size / c == bytes_per_channel,
      "lmdb ",
      where,
      " holds ",
      size,
      " bytes for a ",
      c,
      "x",
      h,
      "x",
      w,
      " datum");
  auto chw = at::from_blob(
      const_cast<char*>(datum.data().data()), {c, h, w}, at::kByte);
  // clone: the result must own its pixels, not point into the datum.
  return chw.permute({1, 2, 0}).clone(at::MemoryFormat::Contiguous);
}

} // namespace detail
} // namespace data
} // namespace fcnlab
