"""fcnlab: fully convolutional segmentation networks (FCN-Alexnet, FCN-32s/16s/8s,
Caffe prototxts) with LibTorch.

Tensors cross as torch.Tensor: images are H x W x 3 uint8 BGR (read_image) or
N x 3 x H x W float BGR 0..255 (the network's input), labels H x W class
indices with 255 = ignore.
"""
import torch  # noqa: F401  (loads libtorch before the extension)

from fcnlab._C import (  # noqa: F401
    ConfusionMatrix,
    LmdbSegmentation,
    Solver,
    Trainer,
    VOCSegmentation,
    builtin_networks,
    colorize,
    convolutionalize,
    augment,
    cpu_has_native_bf16,
    create_db,
    cuda_available,
    evaluate,
    explore,
    export_caffe,
    export_onnx,
    load_caffemodel,
    load_model,
    max_image_pixels,
    network_prototxt,
    overlay,
    prepare_sbd,
    prepare_voc,
    pretrain,
    read_caffemodel,
    read_class_names,
    read_image,
    read_label,
    read_sbd_label,
    reuse_freed_memory,
    save_caffemodel,
    save_model,
    segment,
    segmentation_loss,
    set_max_image_pixels,
    set_winograd_convolutions,
    summary,
    synth_voc,
    upgrade_legacy_file,
    voc_class_names,
    voc_palette,
    winograd_convolutions,
    write_caffemodel,
    write_deploy_prototxt,
    write_label,
)

try:  # a build with the dashboard (cpp-httplib and Graphviz)
    from fcnlab._C import Server, draw_network, serve  # noqa: F401
except ImportError:
    pass

from fcnlab.hooks import TrainerHook  # noqa: F401
from fcnlab.modules import FcnAlexNet, FcnNet  # noqa: F401

__version__ = "0.1.0"
