// The layer table: every LayerType has a definition, and every type's
// parameters survive Caffe's schema (prototxt) and its blobs (caffemodel).
// A type added without a sample below fails here.
#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/importer.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/fcn_net.h>

#include "seeded_test.h"

#include <torch/torch.h>

#include <map>
#include <set>
#include <sstream>

namespace fcnlab {
namespace models {
namespace {

using LayerTableTest = testing::SeededTest;

LayerSpec layer(
    LayerType type,
    std::vector<std::string> bottoms = {"data"},
    std::vector<ParamRule> params = {}) {
  LayerSpec spec;
  spec.name = std::string("the_") + caffe_type_name(type);
  spec.type = type;
  spec.bottoms = std::move(bottoms);
  spec.tops = {"out"};
  spec.params = std::move(params);
  return spec;
}

// One layer of each type with parameters away from Caffe's defaults (values
// a float32 field holds exactly), valid on a 3-channel input.
std::map<LayerType, LayerSpec> samples() {
  std::map<LayerType, LayerSpec> all;
  {
    auto s = layer(LayerType::kConvolution, {"data"}, {{1, 1}, {2, 0}});
    s.convolution.num_output = 4;
    s.convolution.window = {3, 5, 2, 1, 1, 2, 1, 2};
    s.convolution.weight_filler = Filler{"gaussian", 0, 0.5, 0.25};
    s.convolution.bias_filler = Filler{"constant", 0.25};
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kDeconvolution, {"data"}, {{0, 0}});
    s.convolution.num_output = 3;
    s.convolution.window = {4, 4, 2, 2, 1, 1, 1, 1};
    s.convolution.group = 3;
    s.convolution.bias_term = false;
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kPooling);
    s.pooling.method = PoolMethod::kAverage;
    s.pooling.window = {3, 2, 2, 1, 1, 0, 1, 1};
    s.pooling.ceil_mode = false;
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kLRN);
    s.lrn = {3, 0.5, 0.25, 2};
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kReLU);
    s.negative_slope = 0.125;
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kDropout);
    s.dropout_ratio = 0.25;
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kPower);
    s.power = {2, 0.5, 0.25};
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kCrop, {"data", "data"});
    s.crop.axis = 2;
    s.crop.offsets = {0, 0};
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kEltwise, {"data", "data"});
    s.eltwise.coefficients = {0.5, -1};
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kScale, {"data"}, {{1, 1}, {0, 0}});
    s.scale.filler = Filler{"uniform"};
    s.scale.filler.min = 0.5;
    s.scale.filler.max = 2;
    s.scale.bias_term = true;
    s.scale.bias_filler = Filler{"constant", 0.5};
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kConcat, {"data", "data"});
    s.concat_axis = 2;
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kSoftmax);
    s.softmax_axis = 3;
    all[s.type] = s;
  }
  {
    auto s = layer(LayerType::kInnerProduct, {"data"}, {{1, 1}, {2, 0}});
    s.inner_product.num_output = 5;
    s.inner_product.transpose = true;
    s.inner_product.weight_filler = Filler{"xavier"};
    s.inner_product.bias_filler = Filler{"constant", 0.5};
    all[s.type] = s;
  }
  {
    // Caffe's BatchNorm is never learned, whatever its param blocks say.
    auto s = layer(LayerType::kBatchNorm, {"data"}, {{0, 0}, {0, 0}, {0, 0}});
    s.batch_norm.use_global_stats = true;
    s.batch_norm.moving_average_fraction = 0.5;
    s.batch_norm.eps = 0.25;
    all[s.type] = s;
  }
  all[LayerType::kFlatten] = layer(LayerType::kFlatten);
  return all;
}

// Every field of a layer but its line, written out by the test itself.
std::string fields(const LayerSpec& l) {
  std::ostringstream out;
  auto filler = [&](const Filler& f) {
    out << "{" << f.type << " " << f.value << " " << f.mean << " " << f.std
        << " " << f.min << " " << f.max << " " << f.variance_norm << "} ";
  };
  auto window = [&](const Window& w) {
    out << "[" << w.kernel_h << " " << w.kernel_w << " " << w.stride_h << " "
        << w.stride_w << " " << w.pad_h << " " << w.pad_w << " " << w.dilation_h
        << " " << w.dilation_w << "] ";
  };
  out << l.name << " " << static_cast<int>(l.type) << " bottoms";
  for (const auto& b : l.bottoms) {
    out << " " << b;
  }
  out << " tops";
  for (const auto& t : l.tops) {
    out << " " << t;
  }
  out << " params";
  for (const auto& p : l.params) {
    out << " " << p.lr_mult << "/" << p.decay_mult;
  }
  const auto& c = l.convolution;
  out << "\nconvolution " << c.num_output << " " << c.group << " "
      << c.bias_term << " ";
  window(c.window);
  if (c.weight_filler) {
    filler(*c.weight_filler);
  }
  filler(c.bias_filler);
  out << "\npooling " << static_cast<int>(l.pooling.method) << " "
      << l.pooling.global << " " << l.pooling.ceil_mode << " ";
  window(l.pooling.window);
  out << "\nlrn " << l.lrn.local_size << " " << l.lrn.alpha << " " << l.lrn.beta
      << " " << l.lrn.k << "\nrelu " << l.negative_slope << "\ndropout "
      << l.dropout_ratio << "\npower " << l.power.power << " " << l.power.scale
      << " " << l.power.shift << "\ncrop " << l.crop.axis;
  for (const auto o : l.crop.offsets) {
    out << " " << o;
  }
  out << "\neltwise " << static_cast<int>(l.eltwise.operation);
  for (const auto k : l.eltwise.coefficients) {
    out << " " << k;
  }
  out << "\nscale " << l.scale.axis << " " << l.scale.num_axes << " "
      << l.scale.bias_term << " ";
  filler(l.scale.filler);
  filler(l.scale.bias_filler);
  out << "\nconcat " << l.concat_axis << "\nsoftmax " << l.softmax_axis;
  const auto& ip = l.inner_product;
  out << "\ninner_product " << ip.num_output << " " << ip.bias_term << " "
      << ip.transpose << " ";
  filler(ip.weight_filler);
  filler(ip.bias_filler);
  const auto& bn = l.batch_norm;
  out << "\nbatch_norm "
      << (bn.use_global_stats ? std::to_string(*bn.use_global_stats) : "-")
      << " " << bn.moving_average_fraction << " " << bn.eps;
  return out.str();
}

NetSpec net_of(const LayerSpec& sample) {
  NetSpec net;
  net.name = std::string("one_") + caffe_type_name(sample.type);
  net.layers = {sample};
  net.output = "out";
  // The image size below: InnerProduct and Flatten count their inputs at it.
  net.input_height = 9;
  net.input_width = 10;
  return net;
}

TEST_F(LayerTableTest, EveryLayerTypeHasOneDefinitionFoundByItsName) {
  const auto types = layer_types();
  ASSERT_EQ(types.size(), static_cast<size_t>(LayerType::kCount));
  std::set<std::string> names;
  for (size_t i = 0; i < types.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(types[i]), i);
    const std::string name = caffe_type_name(types[i]);
    EXPECT_NE(name, "Unknown");
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
    EXPECT_EQ(layer_type_from_name(name), types[i]) << name;
  }
  EXPECT_EQ(layer_type_from_name("LSTM"), std::nullopt);
}

TEST_F(LayerTableTest, EveryTypeReadsBackWhatItWritesToAPrototxt) {
  const auto all = samples();
  for (const auto type : layer_types()) {
    const auto sample = all.find(type);
    ASSERT_NE(sample, all.end())
        << caffe_type_name(type) << " has no sample in this test";
    const std::string text = caffe::net_prototxt(net_of(sample->second));
    const NetSpec back = caffe::parse_prototxt(text, "round_trip.prototxt");
    ASSERT_EQ(back.layers.size(), 1u) << text;
    EXPECT_EQ(fields(back.layers[0]), fields(sample->second)) << text;
  }
}

TEST_F(LayerTableTest, EveryTypeRunsAndItsBlobsSurviveACaffemodel) {
  const auto all = samples();
  const auto image = torch::rand({1, 3, 9, 10}) * 255;
  for (const auto type : layer_types()) {
    SCOPED_TRACE(caffe_type_name(type));
    const NetSpec spec = net_of(all.at(type));
    FcnNet saved(spec);
    {
      torch::NoGradGuard no_grad;
      // Positive, so that a BatchNorm's variance and weight are too.
      for (auto& parameter : saved->parameters()) {
        parameter.uniform_(0.25, 1);
      }
    }
    // The sizes the file-size checks trust are those of the module.
    const auto sizes =
        parameter_sizes(spec.layers[0], infer_channels(spec).layer_inputs[0]);
    const auto parameters = saved->parameters();
    ASSERT_EQ(parameters.size(), sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      EXPECT_EQ(parameters[i].numel(), sizes[i]);
    }

    const std::string file = path("one.caffemodel");
    caffe::save_caffemodel(saved, file);
    FcnNet loaded(spec);
    caffe::load_caffemodel(loaded, file);
    const auto expected = saved->named_parameters();
    for (const auto& pair : loaded->named_parameters()) {
      EXPECT_TRUE(torch::equal(pair.value(), expected[pair.key()]))
          << pair.key();
    }

    saved->eval();
    loaded->eval();
    torch::NoGradGuard no_grad;
    const auto fast = loaded->forward(image);
    const auto plain = saved->trace(image).back().second;
    EXPECT_TRUE(torch::allclose(fast, plain, 1e-4, 1e-4));
  }
}

} // namespace
} // namespace models
} // namespace fcnlab
