#pragma once

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/net_spec.h>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace caffe {

/// The deploy network of `spec` in Caffe's text format: an Input layer of
/// 1 x 3 x height x width, the mean subtraction when the description has
/// one (a Power layer "mean" for one value; for three, a 1x1 Convolution
/// "mean" with identity weights and bias -mean, since Power shifts all
/// channels alike), then every layer with its derived crop offsets. No loss
/// and no data layers, so Caffe and OpenCV's dnn module run it as it is.
/// A size of 0x0 means the size the description declares, or 500x500; a
/// network with InnerProduct or Flatten layers is written at its declared
/// size only (c10::ValueError otherwise).
std::string deploy_prototxt(
    const models::NetSpec& spec,
    int64_t height = 0,
    int64_t width = 0);

/// deploy_prototxt() of FCN-Alexnet with `options`.
std::string deploy_prototxt(
    const models::FcnAlexNetOptions& options,
    int64_t height = 500,
    int64_t width = 500);

/// Writes deploy_prototxt() to `path` atomically.
void write_deploy_prototxt(
    const models::NetSpec& spec,
    const std::string& path,
    int64_t height = 0,
    int64_t width = 0);

/// Writes `model` as a V2 caffemodel: its deploy network with each learned
/// layer's blobs in Caffe layout (weights O x I/group x kH x kW, bias O;
/// deconvolution weights I x O/group x kH x kW; Scale factors C). Caffe and
/// OpenCV's dnn module read it together with deploy_prototxt(model->spec()).
void save_caffemodel(const models::FcnNet& model, const std::string& path);

/// What export_caffe() wrote.
struct CaffeExport {
  std::string weights;  ///< the .caffemodel
  std::string prototxt; ///< its deploy .prototxt, beside it
};

/// Writes `model` as Caffe deploys it: save_caffemodel() to `caffemodel`
/// and deploy_prototxt() at height x width (0x0: the declared size, else
/// 500x500) to the same path with the extension .prototxt. Both or
/// neither: the description is made before anything is written, each file
/// is written atomically, and the caffemodel is removed again when the
/// prototxt cannot be written. Throws c10::ValueError naming `caffemodel`
/// when it does not end in .caffemodel.
CaffeExport export_caffe(
    const models::FcnNet& model,
    const std::string& caffemodel,
    int64_t height = 0,
    int64_t width = 0);

/// The deploy network of a classifier (alexnet_classifier_spec()) as
/// ImageNet models are stored: an input of 1 x 3 x side x side and its
/// convolutions named fc* as InnerProduct layers, so that `fcnlab surgery`
/// convolutionalizes it as it does bvlc_alexnet.
std::string classifier_deploy_prototxt(
    const models::NetSpec& spec,
    int64_t side = models::kAlexnetInputSide);

/// Writes a trained classifier as bvlc_alexnet.caffemodel is laid out:
/// convolutions with their O x I/group x kH x kW weights, fc* layers as
/// InnerProduct with 2-D weights O x (I * kH * kW) in the same element
/// order. Atomic.
void save_classifier_caffemodel(
    const models::FcnNet& model,
    const std::string& path);

/// Where export_classifier() puts a classifier's weights:
/// dir/alexnet.caffemodel.
std::string classifier_caffemodel_path(const std::string& dir);

/// Writes a trained classifier into `dir` (created if missing) as
/// alexnet.caffemodel, in bvlc_alexnet's layout (what `fcnlab surgery` and
/// `train --weights` read), and alexnet_deploy.prototxt. Returns the
/// caffemodel's path.
std::string export_classifier(
    const models::FcnNet& classifier,
    const std::string& dir);

} // namespace caffe
} // namespace fcnlab
