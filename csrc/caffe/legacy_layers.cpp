#include "detail/legacy_layers.h"

#include <c10/util/Exception.h>

#include <map>

namespace fcnlab {
namespace caffe {
namespace detail {
namespace {

using V0 = ::caffe::V0LayerParameter;
using V1 = ::caffe::V1LayerParameter;

// Caffe's V0 type strings (upgrade_proto.cpp's UpgradeV0LayerType).
const std::map<std::string, V1::LayerType>& v0_types() {
  static const std::map<std::string, V1::LayerType> types{
      {"accuracy", V1::ACCURACY},
      {"bnll", V1::BNLL},
      {"concat", V1::CONCAT},
      {"conv", V1::CONVOLUTION},
      {"data", V1::DATA},
      {"dropout", V1::DROPOUT},
      {"euclidean_loss", V1::EUCLIDEAN_LOSS},
      {"flatten", V1::FLATTEN},
      {"hdf5_data", V1::HDF5_DATA},
      {"hdf5_output", V1::HDF5_OUTPUT},
      {"im2col", V1::IM2COL},
      {"images", V1::IMAGE_DATA},
      {"infogain_loss", V1::INFOGAIN_LOSS},
      {"innerproduct", V1::INNER_PRODUCT},
      {"lrn", V1::LRN},
      {"multinomial_logistic_loss", V1::MULTINOMIAL_LOGISTIC_LOSS},
      {"pool", V1::POOLING},
      {"relu", V1::RELU},
      {"sigmoid", V1::SIGMOID},
      {"softmax", V1::SOFTMAX},
      {"softmax_loss", V1::SOFTMAX_LOSS},
      {"split", V1::SPLIT},
      {"tanh", V1::TANH},
      {"window_data", V1::WINDOW_DATA},
  };
  return types;
}

// Moves V0's flat fields into the parameter message of `out`'s type.
class V0Fields {
 public:
  V0Fields(const V0& v0, V1& out, const std::string& where)
      : v0_(v0), out_(out), where_(where) {}

  void move() {
    const auto type = out_.type();
    const bool conv = type == V1::CONVOLUTION;
    const bool pool = type == V1::POOLING;
    const bool ip = type == V1::INNER_PRODUCT;
    if (v0_.has_num_output()) {
      check(conv || ip, "num_output");
      conv ? out_.mutable_convolution_param()->set_num_output(v0_.num_output())
           : out_.mutable_inner_product_param()->set_num_output(
                 v0_.num_output());
    }
    if (v0_.has_biasterm()) {
      check(conv || ip, "biasterm");
      conv ? out_.mutable_convolution_param()->set_bias_term(v0_.biasterm())
           : out_.mutable_inner_product_param()->set_bias_term(v0_.biasterm());
    }
    if (v0_.has_weight_filler()) {
      check(conv || ip, "weight_filler");
      *(conv ? out_.mutable_convolution_param()->mutable_weight_filler()
             : out_.mutable_inner_product_param()->mutable_weight_filler()) =
          v0_.weight_filler();
    }
    if (v0_.has_bias_filler()) {
      check(conv || ip, "bias_filler");
      *(conv ? out_.mutable_convolution_param()->mutable_bias_filler()
             : out_.mutable_inner_product_param()->mutable_bias_filler()) =
          v0_.bias_filler();
    }
    if (v0_.has_pad()) {
      check(conv || pool, "pad");
      conv ? out_.mutable_convolution_param()->add_pad(v0_.pad())
           : out_.mutable_pooling_param()->set_pad(v0_.pad());
    }
    if (v0_.has_kernelsize()) {
      check(conv || pool, "kernelsize");
      conv ? out_.mutable_convolution_param()->add_kernel_size(v0_.kernelsize())
           : out_.mutable_pooling_param()->set_kernel_size(v0_.kernelsize());
    }
    if (v0_.has_stride()) {
      check(conv || pool, "stride");
      conv ? out_.mutable_convolution_param()->add_stride(v0_.stride())
           : out_.mutable_pooling_param()->set_stride(v0_.stride());
    }
    if (v0_.has_group()) {
      check(conv, "group");
      out_.mutable_convolution_param()->set_group(v0_.group());
    }
    if (v0_.has_pool()) {
      check(pool, "pool");
      out_.mutable_pooling_param()->set_pool(
          static_cast<::caffe::PoolingParameter::PoolMethod>(v0_.pool()));
    }
    if (v0_.has_dropout_ratio()) {
      check(type == V1::DROPOUT, "dropout_ratio");
      out_.mutable_dropout_param()->set_dropout_ratio(v0_.dropout_ratio());
    }
    move_lrn(type == V1::LRN);
    move_data(type);
    if (v0_.has_concat_dim()) {
      check(type == V1::CONCAT, "concat_dim");
      out_.mutable_concat_param()->set_concat_dim(v0_.concat_dim());
    }
  }

 private:
  void check(bool belongs, const char* field) const {
    TORCH_CHECK(
        belongs,
        where_,
        ": the V0 field ",
        field,
        " does not belong to a '",
        v0_.type(),
        "' layer");
  }

  void move_lrn(bool lrn) {
    auto* p = lrn ? out_.mutable_lrn_param() : nullptr;
    if (v0_.has_local_size()) {
      check(lrn, "local_size");
      p->set_local_size(v0_.local_size());
    }
    if (v0_.has_alpha()) {
      check(lrn, "alpha");
      p->set_alpha(v0_.alpha());
    }
    if (v0_.has_beta()) {
      check(lrn, "beta");
      p->set_beta(v0_.beta());
    }
    if (v0_.has_k()) {
      check(lrn, "k");
      p->set_k(v0_.k());
    }
  }

  // source, batchsize, scale, meanfile, cropsize and mirror belong to the
  // data layers; Caffe keeps them in each type's own message.
  void move_data(V1::LayerType type) {
    const bool data = type == V1::DATA;
    const bool images = type == V1::IMAGE_DATA;
    const bool window = type == V1::WINDOW_DATA;
    const bool hdf5 = type == V1::HDF5_DATA;
    if (v0_.has_source()) {
      check(data || images || window || hdf5, "source");
      data         ? out_.mutable_data_param()->set_source(v0_.source())
          : images ? out_.mutable_image_data_param()->set_source(v0_.source())
          : window ? out_.mutable_window_data_param()->set_source(v0_.source())
                   : out_.mutable_hdf5_data_param()->set_source(v0_.source());
    }
    if (v0_.has_batchsize()) {
      check(data || images || window || hdf5, "batchsize");
      const auto size = v0_.batchsize();
      data         ? out_.mutable_data_param()->set_batch_size(size)
          : images ? out_.mutable_image_data_param()->set_batch_size(size)
          : window ? out_.mutable_window_data_param()->set_batch_size(size)
                   : out_.mutable_hdf5_data_param()->set_batch_size(size);
    }
    const bool transformed = data || images || window;
    if (v0_.has_scale()) {
      check(transformed, "scale");
      out_.mutable_transform_param()->set_scale(v0_.scale());
    }
    if (v0_.has_meanfile()) {
      check(transformed, "meanfile");
      out_.mutable_transform_param()->set_mean_file(v0_.meanfile());
    }
    if (v0_.has_cropsize()) {
      check(transformed, "cropsize");
      out_.mutable_transform_param()->set_crop_size(v0_.cropsize());
    }
    if (v0_.has_mirror()) {
      check(transformed, "mirror");
      out_.mutable_transform_param()->set_mirror(v0_.mirror());
    }
  }

  const V0& v0_;
  V1& out_;
  const std::string& where_;
};

V1 upgrade_entry(const V1& entry, const std::string& where) {
  const V0& v0 = entry.layer();
  const auto type = v0_types().find(v0.type());
  TORCH_CHECK(
      type != v0_types().end(),
      where,
      ": unknown V0 layer type '",
      v0.type(),
      "'");
  V1 out;
  *out.mutable_bottom() = entry.bottom();
  *out.mutable_top() = entry.top();
  out.set_name(v0.has_name() ? v0.name() : entry.name());
  out.set_type(type->second);
  *out.mutable_blobs() = v0.blobs();
  *out.mutable_blobs_lr() = v0.blobs_lr();
  *out.mutable_weight_decay() = v0.weight_decay();
  V0Fields(v0, out, where).move();
  return out;
}

std::string layer_where(const std::string& source, const V1& entry) {
  return source + ": layer " +
      (entry.layer().has_name() ? entry.layer().name() : entry.name());
}

} // namespace

std::string v1_type_name(V1::LayerType type) {
  switch (type) {
    case V1::CONVOLUTION:
      return "Convolution";
    case V1::DECONVOLUTION:
      return "Deconvolution";
    case V1::INNER_PRODUCT:
      return "InnerProduct";
    case V1::POOLING:
      return "Pooling";
    case V1::LRN:
      return "LRN";
    case V1::RELU:
      return "ReLU";
    case V1::DROPOUT:
      return "Dropout";
    case V1::POWER:
      return "Power";
    case V1::ELTWISE:
      return "Eltwise";
    case V1::CONCAT:
      return "Concat";
    case V1::SOFTMAX:
      return "Softmax";
    case V1::SOFTMAX_LOSS:
      return "SoftmaxWithLoss";
    case V1::DATA:
      return "Data";
    case V1::DUMMY_DATA:
      return "DummyData";
    case V1::IMAGE_DATA:
      return "ImageData";
    case V1::MEMORY_DATA:
      return "MemoryData";
    case V1::HDF5_DATA:
      return "HDF5Data";
    case V1::ACCURACY:
      return "Accuracy";
    case V1::SILENCE:
      return "Silence";
    case V1::FLATTEN:
      return "Flatten";
    case V1::SPLIT:
      return "Split";
    case V1::SLICE:
      return "Slice";
    case V1::SIGMOID:
      return "Sigmoid";
    case V1::TANH:
      return "TanH";
    case V1::ARGMAX:
      return "ArgMax";
    case V1::ABSVAL:
      return "AbsVal";
    case V1::BNLL:
      return "BNLL";
    case V1::EXP:
      return "Exp";
    case V1::MVN:
      return "MVN";
    case V1::THRESHOLD:
      return "Threshold";
    case V1::WINDOW_DATA:
      return "WindowData";
    case V1::HDF5_OUTPUT:
      return "HDF5Output";
    case V1::EUCLIDEAN_LOSS:
      return "EuclideanLoss";
    case V1::HINGE_LOSS:
      return "HingeLoss";
    case V1::INFOGAIN_LOSS:
      return "InfogainLoss";
    case V1::CONTRASTIVE_LOSS:
      return "ContrastiveLoss";
    case V1::MULTINOMIAL_LOGISTIC_LOSS:
      return "MultinomialLogisticLoss";
    case V1::SIGMOID_CROSS_ENTROPY_LOSS:
      return "SigmoidCrossEntropyLoss";
    case V1::IM2COL:
      return "Im2col";
    default:
      return V1::LayerType_Name(type);
  }
}

::caffe::LayerParameter upgrade_v1_layer(const V1& v1) {
  ::caffe::LayerParameter layer;
  layer.set_name(v1.name());
  layer.set_type(v1_type_name(v1.type()));
  *layer.mutable_bottom() = v1.bottom();
  *layer.mutable_top() = v1.top();
  *layer.mutable_include() = v1.include();
  *layer.mutable_exclude() = v1.exclude();
  *layer.mutable_loss_weight() = v1.loss_weight();
  const int params = std::max(v1.blobs_lr_size(), v1.weight_decay_size());
  for (int i = 0; i < params; ++i) {
    auto* param = layer.add_param();
    if (i < v1.blobs_lr_size()) {
      param->set_lr_mult(v1.blobs_lr(i));
    }
    if (i < v1.weight_decay_size()) {
      param->set_decay_mult(v1.weight_decay(i));
    }
  }
  // Every V1 type parameter has a V2 field of the same name and message.
  const auto* from = v1.GetDescriptor();
  const auto* to = layer.GetDescriptor();
  const auto* read = v1.GetReflection();
  const auto* write = layer.GetReflection();
  for (int i = 0; i < from->field_count(); ++i) {
    const auto* field = from->field(i);
    if (field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE ||
        field->is_repeated() || !read->HasField(v1, field)) {
      continue;
    }
    const auto* target = to->FindFieldByName(field->name());
    if (target != nullptr && target->message_type() == field->message_type()) {
      write->MutableMessage(&layer, target)
          ->CopyFrom(read->GetMessage(v1, field));
    }
  }
  return layer;
}

google::protobuf::RepeatedPtrField<V1> upgrade_v0_layers(
    const google::protobuf::RepeatedPtrField<V1>& layers,
    const std::string& source,
    std::vector<int>* origin) {
  // A padding layer's top -> the entry, so that its reader takes its pad.
  std::map<std::string, const V1*> padding;
  google::protobuf::RepeatedPtrField<V1> upgraded;
  for (int i = 0; i < layers.size(); ++i) {
    const V1& entry = layers.Get(i);
    const std::string where = layer_where(source, entry);
    if (!entry.has_layer()) {
      *upgraded.Add() = entry;
    } else if (entry.layer().type() == "padding") {
      TORCH_CHECK(
          entry.bottom_size() == 1 && entry.top_size() == 1,
          where,
          ": a V0 padding layer has one bottom and one top");
      padding[entry.top(0)] = &entry;
      continue;
    } else {
      V1 out = upgrade_entry(entry, where);
      for (int b = 0; b < out.bottom_size(); ++b) {
        const auto pad = padding.find(out.bottom(b));
        if (pad == padding.end()) {
          continue;
        }
        const bool conv = out.type() == V1::CONVOLUTION;
        TORCH_CHECK(
            conv || out.type() == V1::POOLING,
            where,
            ": reads the V0 padding layer ",
            pad->second->layer().name(),
            "; only a convolution or pooling can take its pad");
        const uint32_t amount = pad->second->layer().pad();
        if (conv) {
          out.mutable_convolution_param()->clear_pad();
          out.mutable_convolution_param()->add_pad(amount);
        } else {
          out.mutable_pooling_param()->set_pad(amount);
        }
        out.set_bottom(b, pad->second->bottom(0));
      }
      *upgraded.Add() = std::move(out);
    }
    if (origin != nullptr) {
      origin->push_back(i);
    }
  }
  return upgraded;
}

} // namespace detail
} // namespace caffe
} // namespace fcnlab
