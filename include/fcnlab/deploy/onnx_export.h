#pragma once

#include <fcnlab/models/fcn_net.h>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace deploy {

/// What an exported model computes last.
enum class OnnxOutput {
  kScores,        ///< the network's scores, N x classes x H x W
  kProbabilities, ///< their softmax over the classes
  kClasses,       ///< the class of each pixel, N x H x W int64 (ArgMax)
};

/// "scores", "probabilities" or "classes"; c10::ValueError otherwise.
OnnxOutput parse_onnx_output(const std::string& name);

struct OnnxExportOptions {
  /// Input height and width of a fixed-size model (constant crops: what
  /// OpenCV, segNet and static TensorRT engines need). 0x0: any size, read
  /// when the model runs; a network whose layers read whole planes
  /// (InnerProduct, Flatten) is then written at its declared size.
  int64_t height = 0;
  int64_t width = 0;
  /// 11 (TensorRT 7.1) to 17 (the newest ONNX 1.12 checks).
  int64_t opset = 13;
  OnnxOutput output = OnnxOutput::kScores;
  /// A model as jetson-inference's segNet loads it: fixed size, input
  /// `input_0` of ImageNet-normalized planar RGB (turned back into the
  /// network's input inside the graph), output `output_0` the coarse
  /// scores that enter the first Deconvolution (segNet upsamples itself).
  bool segnet = false;
};

/// What export_onnx() wrote.
struct OnnxExport {
  std::string path;
  std::string input;  ///< name and contract of the input (also metadata)
  std::string output; ///< name and meaning of the output (also metadata)
  int64_t height = 0; ///< fixed input size; 0x0 when dynamic
  int64_t width = 0;
};

/// The ONNX model of `model` (a serialized ModelProto), every node named
/// after its Caffe layer (helper nodes layer/step), checked by ONNX's
/// checker and shape inference. The input is BGR, 0-255; the network's
/// mean is subtracted inside the graph. Throws c10::Error naming the layer
/// for what no runtime runs as fcnlab does (pooling with pad > kernel -
/// stride, BatchNorm on batch statistics), and c10::ValueError for options
/// that do not fit (an input too small for the network, segnet without a
/// fixed size or Deconvolution).
std::string onnx_model(
    const models::FcnNet& model,
    const OnnxExportOptions& options = {},
    OnnxExport* described = nullptr);

/// Writes onnx_model() to `path` atomically (c10::ValueError naming `path`
/// unless it ends in .onnx).
OnnxExport export_onnx(
    const models::FcnNet& model,
    const std::string& path,
    const OnnxExportOptions& options = {});

} // namespace deploy
} // namespace fcnlab
