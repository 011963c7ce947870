// Crop: bottom[0] cut to the size of bottom[1] from `axis` on, at the
// offsets coord_map.h derives (or the prototxt gives).
#include "caffe_fields.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace crop_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& /*where*/) {
  const auto& p = proto.crop_param();
  layer.crop.axis = blob_axis(p.axis());
  layer.crop.offsets.assign(p.offset().begin(), p.offset().end());
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_crop_param();
  p->set_axis(static_cast<int32_t>(layer.crop.axis));
  for (const int64_t offset : layer.crop.offsets) {
    p->add_offset(static_cast<uint32_t>(offset));
  }
}

int64_t out_channels(
    const NetSpec& spec,
    const LayerSpec& layer,
    const std::vector<int64_t>& in) {
  TORCH_CHECK(
      layer.crop.axis >= 2 && layer.crop.axis <= 3,
      spec.where(layer),
      ": Crop axis must be 2 or 3 (height, width), got ",
      layer.crop.axis);
  return in[0];
}

at::Tensor forward(LayerRun& run) {
  const at::Tensor& x = run.in[0];
  if (run.cropped_already) {
    return x;
  }
  const LayerSpec& layer = run.layer;
  const at::Tensor& ref = run.in[1];
  const auto [off_y, off_x] = run.crop_offsets.at(layer.name);
  const bool crop_height = layer.crop.axis <= 2;
  const int64_t height = crop_height ? ref.size(2) : x.size(2);
  check_crop_fits(
      run.net.where(layer),
      layer.bottoms[0],
      x.size(2),
      x.size(3),
      height,
      ref.size(3),
      off_y,
      off_x);
  return x.slice(2, off_y, off_y + height).slice(3, off_x, off_x + ref.size(3));
}

PlaneSize output_size(
    const LayerSpec& layer,
    const std::vector<PlaneSize>& in) {
  const PlaneSize& reference = in[1];
  return {
      layer.crop.axis <= 2 ? reference.height : in[0].height, reference.width};
}

// A spatial crop (from height on) that a Deconvolution may compute directly.
bool folds_into_producer(const LayerSpec& layer) {
  return layer.crop.axis == 2;
}

// A fixed-size export cuts at constant ends; otherwise the ends are the
// offsets plus the reference's size, read when the model runs.
std::string to_onnx(const OnnxLayer& l) {
  const bool crop_height = l.layer.crop.axis <= 2;
  const auto [off_y, off_x] = l.crop_offset;
  const std::vector<int64_t> axes =
      crop_height ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{3};
  const std::vector<int64_t> starts = crop_height
      ? std::vector<int64_t>{off_y, off_x}
      : std::vector<int64_t>{off_x};
  std::string ends;
  if (l.fixed_size()) {
    const PlaneSize& ref = l.in_sizes[1];
    ends = l.ints(
        "ends",
        crop_height
            ? std::vector<int64_t>{off_y + ref.height, off_x + ref.width}
            : std::vector<int64_t>{off_x + ref.width});
  } else {
    const std::string shape = l.step("shape", "Shape", {l.in[1]});
    const std::string size = l.step(
        "size",
        "Slice",
        {shape, l.ints("first_axis", {axes.front()}), l.ints("end_axis", {4})});
    ends = l.step("ends", "Add", {size, l.ints("offsets", starts)});
  }
  return l.node(
      "Slice", {l.in[0], l.ints("starts", starts), ends, l.ints("axes", axes)});
}

} // namespace crop_impl

void check_crop_fits(
    const std::string& where,
    const std::string& blob,
    int64_t height,
    int64_t width,
    int64_t crop_h,
    int64_t crop_w,
    int64_t off_y,
    int64_t off_x) {
  auto size_text = [](int64_t h, int64_t w) {
    return std::to_string(h) + "x" + std::to_string(w);
  };
  TORCH_CHECK(
      height >= off_y + crop_h && width >= off_x + crop_w,
      where,
      ": ",
      blob,
      " is ",
      size_text(height, width),
      ", too small to crop ",
      size_text(crop_h, crop_w),
      " at offset (",
      off_y,
      ", ",
      off_x,
      ")");
}

LayerDef crop_layer() {
  LayerDef def{LayerType::kCrop, "Crop"};
  def.min_bottoms = def.max_bottoms = 2;
  def.read = crop_impl::read;
  def.write = crop_impl::write;
  def.out_channels = crop_impl::out_channels;
  def.output_size = crop_impl::output_size;
  def.forward = crop_impl::forward;
  def.folds_into_producer = crop_impl::folds_into_producer;
  def.to_onnx = crop_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
