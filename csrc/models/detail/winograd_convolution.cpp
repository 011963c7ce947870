#include "winograd_convolution.h"

#include <fcnlab/util/winograd.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#if FCNLAB_HAS_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace fcnlab {
namespace {

#if FCNLAB_HAS_ONEDNN
std::atomic<bool> enabled{true};
#else
std::atomic<bool> enabled{false};
#endif

} // namespace

bool winograd_convolutions() {
  return enabled.load();
}

bool set_winograd_convolutions(bool on) {
#if FCNLAB_HAS_ONEDNN
  enabled.store(on);
#else
  (void)on;
#endif
  return enabled.load();
}

namespace models {
namespace detail {

#if FCNLAB_HAS_ONEDNN
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// Below this many channels the direct algorithm is faster (conv1_1, with 3
// input channels, takes twice as long by Winograd).
constexpr int64_t kMinChannels = 16;

bool applies(const ConvShape& layer, const at::Tensor& x, const at::Tensor& w) {
  auto all_one = [](const std::vector<int64_t>& values) {
    return values[0] == 1 && values[1] == 1;
  };
  return winograd_convolutions() && x.dim() == 4 && x.device().is_cpu() &&
      x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat &&
      w.device().is_cpu() && !w.is_inference() && w.size(2) == 3 &&
      w.size(3) == 3 && all_one(layer.stride) && all_one(layer.dilation) &&
      layer.groups >= 1 && w.size(0) % layer.groups == 0 &&
      x.size(1) == w.size(1) * layer.groups && w.size(1) >= kMinChannels &&
      w.size(0) / layer.groups >= kMinChannels && x.numel() > 0;
}

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::dims dims_of(const at::Tensor& t) {
  return memory::dims(t.sizes().begin(), t.sizes().end());
}

// The problems oneDNN had no Winograd kernel for, so that each is asked once.
class Unsupported {
 public:
  bool contains(const std::string& problem) {
    std::lock_guard<std::mutex> lock(mutex_);
    return problems_.count(problem) != 0;
  }
  void add(const std::string& problem) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (problems_.size() >= 4096) { // images of ever new sizes
      problems_.clear();
    }
    problems_.insert(problem);
  }

 private:
  std::mutex mutex_;
  std::set<std::string> problems_;
};

Unsupported& unsupported() {
  static Unsupported problems;
  return problems;
}

// The transformed weight's layout, which oneDNN picks for the problem's
// size: the cache keeps one copy per layout.
std::string layout_of(const memory::desc& weights) {
  if (weights.data.format_kind != dnnl_format_kind_wino) {
    return "size " + std::to_string(weights.get_size());
  }
  const auto& w = weights.data.format_desc.wino_desc;
  std::string layout;
  for (const int64_t field :
       {int64_t{w.wino_format},
        int64_t{w.r},
        int64_t{w.alpha},
        int64_t{w.ic},
        int64_t{w.oc},
        int64_t{w.ic_block},
        int64_t{w.oc_block},
        int64_t{w.ic2_block},
        int64_t{w.oc2_block},
        static_cast<int64_t>(w.size)}) {
    layout += std::to_string(field) + ",";
  }
  return layout + std::to_string(w.adj_scale);
}

// A buffer for oneDNN from LibTorch's allocator, which keeps large blocks
// for reuse (fcnlab::reuse_freed_memory) where oneDNN's own would fault in
// fresh pages on every call.
at::Tensor buffer(size_t bytes) {
  return at::empty({static_cast<int64_t>(bytes)}, at::kByte);
}

// Output rows [begin, end) and the input rows [in_begin, in_end) they read,
// with the zero rows the layer's padding adds above and below.
struct Band {
  int64_t begin, end, in_begin, in_end, pad_top, pad_bottom;
};

// Output elements per band. The layer runs in bands of rows: oneDNN
// transforms a whole input at once, which for VGG16's first layers means
// buffers of hundreds of MB that spill every cache (and that fault in
// fresh pages when the allocator has none to reuse).
constexpr int64_t kBandElements = int64_t{1} << 21;

std::vector<Band> bands(
    int64_t out_h,
    int64_t in_h,
    int64_t pad,
    int64_t row_elements) {
  // Multiples of 4 rows: Winograd's output tiles are 4x4.
  const int64_t rows =
      std::max<int64_t>(4, kBandElements / row_elements / 4 * 4);
  std::vector<Band> all;
  for (int64_t begin = 0; begin < out_h; begin += rows) {
    Band band;
    band.begin = begin;
    band.end = std::min(out_h, begin + rows);
    band.in_begin = std::max<int64_t>(0, begin - pad);
    band.in_end = std::min(in_h, band.end - pad + 2);
    band.pad_top = band.in_begin - (begin - pad);
    band.pad_bottom = (band.end - pad + 2) - band.in_end;
    all.push_back(band);
  }
  return all;
}

// Group `group` of t's channels (`channels` each) in rows [begin, end), a
// strided view, as oneDNN memory.
memory view_of(
    const at::Tensor& t,
    int64_t channels,
    int64_t group,
    int64_t begin,
    int64_t end,
    dnnl::engine& engine) {
  memory::dims dims = dims_of(t);
  dims[1] = channels;
  dims[2] = end - begin;
  const memory::dims strides(t.strides().begin(), t.strides().end());
  return memory(
      memory::desc(dims, memory::data_type::f32, strides),
      engine,
      t.data_ptr<float>() + group * channels * t.stride(1) +
          begin * t.stride(2));
}

// One group of the layer, for every band.
struct Problem {
  std::string name;
  int64_t batch, in_channels, out_channels, in_w, out_w, pad_w;
  bool bias;
};

// Input rows, zero rows above, zero rows below.
using BandShape = std::array<int64_t, 3>;

BandShape shape_of(const Band& band) {
  return {band.in_end - band.in_begin, band.pad_top, band.pad_bottom};
}

// oneDNN's Winograd convolution for one band shape.
struct Primitive {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward convolution;
};

// The primitive for one band shape; false when oneDNN has none.
bool make_primitive(
    const Problem& p,
    const BandShape& shape,
    Primitive& primitive) {
  const std::string key = p.name + " " + std::to_string(p.in_channels) + "x" +
      std::to_string(shape[0]) + "x" + std::to_string(p.in_w) + " -> " +
      std::to_string(p.out_channels) + " pad " + std::to_string(shape[1]) +
      "," + std::to_string(shape[2]) + "," + std::to_string(p.pad_w);
  if (unsupported().contains(key)) {
    return false;
  }
  const auto f32 = memory::data_type::f32;
  const int64_t out_rows = shape[0] + shape[1] + shape[2] - 2;
  const memory::desc src(
      {p.batch, p.in_channels, shape[0], p.in_w}, f32, Tag::any);
  const memory::desc weights(
      {p.out_channels, p.in_channels, 3, 3}, f32, Tag::any);
  const memory::desc dst(
      {p.batch, p.out_channels, out_rows, p.out_w}, f32, Tag::any);
  const memory::dims stride{1, 1}, before{shape[1], p.pad_w},
      after{shape[2], p.pad_w};
  const auto kind = dnnl::prop_kind::forward_inference;
  const auto winograd = dnnl::algorithm::convolution_winograd;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  try {
    const auto desc = p.bias
        ? dnnl::convolution_forward::desc(
              kind,
              winograd,
              src,
              weights,
              memory::desc({p.out_channels}, f32, Tag::x),
              dst,
              stride,
              before,
              after)
        : dnnl::convolution_forward::desc(
              kind, winograd, src, weights, dst, stride, before, after);
    primitive.pd =
        dnnl::convolution_forward::primitive_desc(desc, attr, cpu_engine());
    primitive.convolution = dnnl::convolution_forward(primitive.pd);
    return true;
  } catch (const dnnl::error&) {
    unsupported().add(key);
    return false;
  }
}

// Group g's weight, transformed into the layout `pd` wants, from the cache.
at::Tensor transformed_weight(
    const Problem& p,
    const at::Tensor& weight,
    int64_t group,
    const dnnl::convolution_forward::primitive_desc& pd,
    WeightCache& cache) {
  const memory::desc& layout = pd.weights_desc();
  const std::string key =
      p.name + "/winograd/" + std::to_string(group) + "/" + layout_of(layout);
  return cache.derived(key, weight, [&] {
    dnnl::engine& engine = cpu_engine();
    const at::Tensor plain =
        weight.detach()
            .narrow(0, group * p.out_channels, p.out_channels)
            .contiguous();
    memory user(
        {dims_of(plain), memory::data_type::f32, Tag::oihw},
        engine,
        plain.data_ptr());
    at::Tensor bytes = buffer(layout.get_size());
    memory packed(layout, engine, bytes.data_ptr());
    dnnl::stream stream(engine);
    dnnl::reorder(user, packed).execute(stream, user, packed);
    stream.wait();
    return bytes;
  });
}

} // namespace

at::Tensor winograd_convolution(
    const ConvShape& layer,
    const at::Tensor& x,
    const at::Tensor& weight,
    const at::Tensor& bias,
    WeightCache& cache) {
  if (!applies(layer, x, weight)) {
    return at::Tensor();
  }
  const int64_t groups = layer.groups;
  const int64_t in_h = x.size(2), pad_h = layer.pad[0];
  Problem p{
      layer.name,
      x.size(0),
      weight.size(1),
      weight.size(0) / groups,
      x.size(3),
      x.size(3) + 2 * layer.pad[1] - 2,
      layer.pad[1],
      bias.defined()};
  const int64_t out_h = in_h + 2 * pad_h - 2;
  if (out_h <= 0 || p.out_w <= 0) {
    return at::Tensor();
  }
  // Any other strides (a transposed view, say) become channels-last first.
  const at::Tensor input =
      x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast)
      ? x
      : x.contiguous(at::MemoryFormat::ChannelsLast);

  // One primitive per band shape (the first, the middle ones, the last),
  // all made before any runs: a layer never runs half by Winograd.
  const std::vector<Band> all = bands(
      out_h,
      in_h,
      pad_h,
      p.batch * std::max(p.in_channels, p.out_channels) * p.out_w);
  std::map<BandShape, Primitive> primitives;
  for (const Band& band : all) {
    const BandShape shape = shape_of(band);
    if (!primitives.count(shape) &&
        !make_primitive(p, shape, primitives[shape])) {
      return at::Tensor();
    }
  }

  const at::Tensor plain_bias =
      bias.defined() ? bias.detach().contiguous() : at::Tensor();
  at::Tensor output = at::empty(
      {p.batch, weight.size(0), out_h, p.out_w},
      x.options().memory_format(at::MemoryFormat::ChannelsLast));
  dnnl::engine& engine = cpu_engine();
  dnnl::stream stream(engine);
  for (const Band& band : all) {
    const Primitive& primitive = primitives.at(shape_of(band));
    const auto& pd = primitive.pd;
    for (int64_t g = 0; g < groups; ++g) {
      const at::Tensor transformed =
          transformed_weight(p, weight, g, pd, cache);
      memory user_src =
          view_of(input, p.in_channels, g, band.in_begin, band.in_end, engine);
      at::Tensor src_bytes = buffer(pd.src_desc().get_size());
      memory src(pd.src_desc(), engine, src_bytes.data_ptr());
      dnnl::reorder(user_src, src).execute(stream, user_src, src);
      at::Tensor dst_bytes = buffer(pd.dst_desc().get_size());
      memory dst(pd.dst_desc(), engine, dst_bytes.data_ptr());
      at::Tensor scratch_bytes = buffer(pd.scratchpad_desc().get_size());
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, src},
          {DNNL_ARG_WEIGHTS,
           memory(pd.weights_desc(), engine, transformed.data_ptr())},
          {DNNL_ARG_DST, dst},
          {DNNL_ARG_SCRATCHPAD,
           memory(pd.scratchpad_desc(), engine, scratch_bytes.data_ptr())}};
      if (bias.defined()) {
        args.emplace(
            DNNL_ARG_BIAS,
            memory(
                {{p.out_channels}, memory::data_type::f32, Tag::x},
                engine,
                plain_bias.data_ptr<float>() + g * p.out_channels));
      }
      primitive.convolution.execute(stream, args);
      memory user_dst =
          view_of(output, p.out_channels, g, band.begin, band.end, engine);
      dnnl::reorder(dst, user_dst).execute(stream, dst, user_dst);
      stream.wait();
    }
  }
  return output;
}

#else

at::Tensor winograd_convolution(
    const ConvShape&,
    const at::Tensor&,
    const at::Tensor&,
    const at::Tensor&,
    WeightCache&) {
  return at::Tensor();
}

#endif

} // namespace detail
} // namespace models
} // namespace fcnlab
