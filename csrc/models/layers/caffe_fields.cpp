#include "caffe_fields.h"

#include <c10/util/Exception.h>

#include <tuple>
#include <utility>

namespace fcnlab {
namespace models {
namespace layers {
namespace {

template <typename Repeated>
std::pair<int64_t, int64_t> axes(
    const Repeated& values,
    bool has_h,
    int64_t h,
    bool has_w,
    int64_t w,
    int64_t fallback) {
  if (has_h || has_w) {
    return {has_h ? h : fallback, has_w ? w : fallback};
  }
  if (values.size() == 0) {
    return {fallback, fallback};
  }
  return {values.Get(0), values.Get(values.size() > 1 ? 1 : 0)};
}

} // namespace

Filler read_filler(const ::caffe::FillerParameter& proto) {
  Filler filler;
  filler.type = proto.type();
  filler.value = proto.value();
  filler.mean = proto.mean();
  filler.std = proto.std();
  filler.min = proto.min();
  filler.max = proto.max();
  filler.variance_norm =
      ::caffe::FillerParameter::VarianceNorm_Name(proto.variance_norm());
  return filler;
}

void write_filler(const Filler& filler, ::caffe::FillerParameter* out) {
  out->set_type(filler.type);
  if (filler.type == "constant" && filler.value != 0) {
    out->set_value(static_cast<float>(filler.value));
  } else if (filler.type == "gaussian") {
    out->set_std(static_cast<float>(filler.std));
    if (filler.mean != 0) {
      out->set_mean(static_cast<float>(filler.mean));
    }
  } else if (filler.type == "uniform") {
    out->set_min(static_cast<float>(filler.min));
    out->set_max(static_cast<float>(filler.max));
  } else if (filler.type == "xavier" || filler.type == "msra") {
    ::caffe::FillerParameter::VarianceNorm norm;
    if (::caffe::FillerParameter::VarianceNorm_Parse(
            filler.variance_norm, &norm) &&
        norm != ::caffe::FillerParameter::FAN_IN) {
      out->set_variance_norm(norm);
    }
  }
}

Window read_convolution_window(const ::caffe::ConvolutionParameter& p) {
  Window w;
  std::tie(w.kernel_h, w.kernel_w) = axes(
      p.kernel_size(),
      p.has_kernel_h(),
      p.kernel_h(),
      p.has_kernel_w(),
      p.kernel_w(),
      1);
  std::tie(w.stride_h, w.stride_w) = axes(
      p.stride(),
      p.has_stride_h(),
      p.stride_h(),
      p.has_stride_w(),
      p.stride_w(),
      1);
  std::tie(w.pad_h, w.pad_w) =
      axes(p.pad(), p.has_pad_h(), p.pad_h(), p.has_pad_w(), p.pad_w(), 0);
  std::tie(w.dilation_h, w.dilation_w) =
      axes(p.dilation(), false, 0, false, 0, 1);
  return w;
}

void write_convolution_window(
    const Window& w,
    ::caffe::ConvolutionParameter* p) {
  if (w.kernel_h == w.kernel_w) {
    p->add_kernel_size(static_cast<uint32_t>(w.kernel_h));
  } else {
    p->set_kernel_h(static_cast<uint32_t>(w.kernel_h));
    p->set_kernel_w(static_cast<uint32_t>(w.kernel_w));
  }
  if (w.stride_h == w.stride_w) {
    if (w.stride_h != 1) {
      p->add_stride(static_cast<uint32_t>(w.stride_h));
    }
  } else {
    p->set_stride_h(static_cast<uint32_t>(w.stride_h));
    p->set_stride_w(static_cast<uint32_t>(w.stride_w));
  }
  if (w.pad_h == w.pad_w) {
    if (w.pad_h != 0) {
      p->add_pad(static_cast<uint32_t>(w.pad_h));
    }
  } else {
    p->set_pad_h(static_cast<uint32_t>(w.pad_h));
    p->set_pad_w(static_cast<uint32_t>(w.pad_w));
  }
  if (w.dilation_h != 1 || w.dilation_w != 1) {
    p->add_dilation(static_cast<uint32_t>(w.dilation_h));
    if (w.dilation_w != w.dilation_h) {
      p->add_dilation(static_cast<uint32_t>(w.dilation_w));
    }
  }
}

void check_steps(const Window& w, const std::string& where) {
  TORCH_CHECK(
      w.stride_h >= 1 && w.stride_w >= 1,
      where,
      ": stride must be at least 1, got ",
      w.stride_h,
      "x",
      w.stride_w);
  TORCH_CHECK(
      w.dilation_h >= 1 && w.dilation_w >= 1,
      where,
      ": dilation must be at least 1, got ",
      w.dilation_h,
      "x",
      w.dilation_w);
}

Window read_pooling_window(const ::caffe::PoolingParameter& p) {
  Window w;
  auto pick = [](bool has_h, int64_t h, bool has_w, int64_t w, int64_t both) {
    return std::make_pair(has_h ? h : both, has_w ? w : both);
  };
  std::tie(w.kernel_h, w.kernel_w) = pick(
      p.has_kernel_h(),
      p.kernel_h(),
      p.has_kernel_w(),
      p.kernel_w(),
      p.kernel_size());
  std::tie(w.stride_h, w.stride_w) = pick(
      p.has_stride_h(),
      p.stride_h(),
      p.has_stride_w(),
      p.stride_w(),
      p.stride());
  std::tie(w.pad_h, w.pad_w) =
      pick(p.has_pad_h(), p.pad_h(), p.has_pad_w(), p.pad_w(), p.pad());
  return w;
}

void write_pooling_window(const Window& w, ::caffe::PoolingParameter* p) {
  if (w.kernel_h == w.kernel_w) {
    p->set_kernel_size(static_cast<uint32_t>(w.kernel_h));
  } else {
    p->set_kernel_h(static_cast<uint32_t>(w.kernel_h));
    p->set_kernel_w(static_cast<uint32_t>(w.kernel_w));
  }
  if (w.stride_h == w.stride_w) {
    p->set_stride(static_cast<uint32_t>(w.stride_h));
  } else {
    p->set_stride_h(static_cast<uint32_t>(w.stride_h));
    p->set_stride_w(static_cast<uint32_t>(w.stride_w));
  }
  if (w.pad_h == w.pad_w) {
    if (w.pad_h != 0) {
      p->set_pad(static_cast<uint32_t>(w.pad_h));
    }
  } else {
    p->set_pad_h(static_cast<uint32_t>(w.pad_h));
    p->set_pad_w(static_cast<uint32_t>(w.pad_w));
  }
}

int64_t blob_axis(int64_t axis) {
  return axis < 0 ? axis + 4 : axis;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
