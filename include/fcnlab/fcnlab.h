#pragma once

// Everything fcnlab offers, for applications that want one include.

#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/importer.h>
#include <fcnlab/caffe/model_zoo.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/deploy/onnx_export.h>
#include <fcnlab/io/model_file.h>
#include <fcnlab/models/bilinear.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/coord_map.h>
#include <fcnlab/models/crop.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/layers/scale.h>
#include <fcnlab/models/model_io.h>
#include <fcnlab/models/net_spec.h>
#include <fcnlab/models/summary.h>
#ifdef FCNLAB_HAS_SERVE // a build with the dashboard
#include <fcnlab/serve/network_drawing.h>
#include <fcnlab/serve/server.h>
#endif
#include <fcnlab/util/atomic_file.h>
#include <fcnlab/util/autocast.h>
#include <fcnlab/util/device.h>
#include <fcnlab/util/download.h>
#include <fcnlab/util/memory.h>
#include <fcnlab/util/winograd.h>
