#include "detail/v1_types.h"

namespace fcnlab {
namespace caffe {
namespace detail {

std::string v1_type_name(::caffe::V1LayerParameter::LayerType type) {
  using V1 = ::caffe::V1LayerParameter;
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
    default:
      return V1::LayerType_Name(type);
  }
}

} // namespace detail
} // namespace caffe
} // namespace fcnlab
