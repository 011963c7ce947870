"""fcnlab's networks as torch.nn.Modules.

A network is one C++ module (fcnlab._C.FcnNet) seen from Python as a
torch.nn.Module with one child per Caffe layer. The children's parameters
are the C++ module's own tensors, so whatever PyTorch does to them (.to(),
load_state_dict, an optimizer's step, DDP's broadcasts) the C++ side sees,
and whatever fcnlab's C++ code does (training, imports) Python sees.

forward() runs the C++ network with its fused fast paths (under
torch.autocast too, which they honour) unless something in Python must watch
or change a layer: a hook on a layer, a layer replaced by another module or
torch.jit tracing. Then each layer runs
through its child module (and so through PyTorch's hook machinery), with
the C++ network doing the wiring of blobs.
"""
import weakref

import torch
from torch.nn.modules import module as _module_internals

from fcnlab import _C

# One module per C++ network, so that a network handed back from C++ is the
# module the user holds (keyed by the extension object, which the module
# keeps alive).
_modules_by_network = weakref.WeakValueDictionary()


def network_module(network):
    """The torch.nn.Module of a C++ network (fcnlab._C.FcnNet)."""
    module = _modules_by_network.get(id(network))
    if module is not None and module._cpp is network:
        return module
    cls = FcnAlexNet if isinstance(network, _C.FcnAlexNet) else FcnNet
    module = cls.__new__(cls)
    Network.__init__(module, network)
    return module


def _as_parameter(tensor):
    # The C++ tensor's own Python object becomes a Parameter (PyTorch keeps
    # that object while C++ holds the tensor), so isinstance checks and
    # nn.Module's bookkeeping treat it as one without copying it.
    if not isinstance(tensor, torch.nn.Parameter):
        tensor.__class__ = torch.nn.Parameter
    return tensor


class Layer(torch.nn.Module):
    """One Caffe layer of a network; runs through the C++ layer's plain
    module, whose parameters it holds."""

    def __init__(self, network, index, layer_type, parameters):
        super().__init__()
        self.layer_type = layer_type
        self._network = network
        self._index = index
        for name, tensor in parameters:
            self._parameters[name] = _as_parameter(tensor)

    def forward(self, *bottoms):
        return self._network.forward_layer(self._index, list(bottoms))

    def extra_repr(self):
        return self.layer_type


def _hooked(module):
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks)


def _global_hooks():
    names = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks")
    return any(getattr(_module_internals, name, None) for name in names)


class Network(torch.nn.Module):
    """A network of Caffe layers as a torch.nn.Module (the base of FcnNet)."""

    def __init__(self, network):
        super().__init__()
        self._cpp = network
        self._layer_names = []
        self._own_layers = []
        by_layer = {}
        for name, tensor in network.named_parameters():
            layer, _, key = name.rpartition(".")
            by_layer.setdefault(layer, []).append((key, tensor))
        for index, (name, layer_type, _, _) in enumerate(network.layers):
            layer = Layer(network, index, layer_type, by_layer.get(name, []))
            # nn.Module names cannot hold dots; C++ ones with parameters
            # never do.
            child_name = name.replace(".", "_")
            self.add_module(child_name, layer)
            self._layer_names.append(child_name)
            self._own_layers.append(layer)
        torch.nn.Module.train(self, network.training)
        _modules_by_network[id(network)] = self

    def _replaced_layers(self):
        return [name for name, own in zip(self._layer_names, self._own_layers)
                if self._modules.get(name) is not own]

    def _runs_layer_by_layer(self):
        if torch.jit.is_tracing() or _global_hooks():
            return True
        return bool(self._replaced_layers()) or any(map(_hooked, self._modules.values()))

    def _cpp_network(self):
        """The C++ network, for fcnlab's own functions (Trainer, segment,
        evaluate, save_model, ...), which run it as built: a layer replaced
        in Python is an error there, not silently left out."""
        replaced = self._replaced_layers()
        if replaced:
            raise ValueError(
                f"{self.name}: layer {', '.join(replaced)} was replaced by a Python module, "
                "which fcnlab's C++ functions cannot run; use the module's own forward "
                "(or put the original layer back)")
        return self._cpp

    def forward(self, bgr):
        """Class scores (N x classes x H x W) of N x 3 x H x W BGR 0..255."""
        if not self._runs_layer_by_layer():
            return self._cpp.forward(bgr)
        layers = [self._modules[name] for name in self._layer_names]
        return self._cpp.run_layers(bgr, lambda index, bottoms: layers[index](*bottoms))

    def __deepcopy__(self, memo):
        # A copy of the C++ network (weights, mode); hooks and replaced
        # layers stay with the original.
        copy = network_module(self._cpp.clone())
        memo[id(self)] = copy
        return copy

    def train(self, mode=True):
        super().train(mode)
        self._cpp.train(mode)
        return self

    def load_state_dict(self, state_dict, strict=True):
        """As torch.nn.Module's; strict loads into an unchanged network
        check every entry before copying any (ValueError naming it)."""
        if not strict or self._replaced_layers():
            return super().load_state_dict(state_dict, strict)
        self._cpp.load_state_dict(dict(state_dict))
        return torch.nn.modules.module._IncompatibleKeys([], [])

    def trace(self, bgr):
        """(layer name, output) of every layer, through the plain layers."""
        return self._cpp.trace(bgr)

    def param_groups(self, base_lr, weight_decay=0.0):
        """Parameter groups for a torch.optim optimizer with Caffe's
        multipliers applied: one per (lr_mult, decay_mult) pair in the order
        they first appear, lr = base_lr * lr_mult, weight_decay =
        weight_decay * decay_mult, the multipliers kept as 'lr_mult' and
        'decay_mult' for schedulers. Parameters with lr_mult 0 (fixed
        upsampling, BatchNorm's sums) are left out, as fcnlab's solver
        leaves them."""
        return self._cpp.param_groups(base_lr, weight_decay)

    def num_learnable_parameters(self):
        return self._cpp.num_learnable_parameters()

    @property
    def num_classes(self):
        return self._cpp.num_classes

    @property
    def name(self):
        return self._cpp.name

    @property
    def mean(self):
        return self._cpp.mean

    @property
    def crop_offsets(self):
        """{crop layer: (height offset, width offset)} from the geometry."""
        return self._cpp.crop_offsets

    @property
    def prototxt(self):
        """The network as a Caffe prototxt."""
        return self._cpp.prototxt

    @property
    def layers(self):
        """(name, Caffe type, bottoms, tops) of every layer, in order."""
        return self._cpp.layers


class FcnNet(Network):
    """Any fully convolutional network described as Caffe layers, as a
    torch.nn.Module: input N x 3 x H x W float BGR 0..255, output N x
    num_classes x H x W scores.

    FcnNet(network="fcn8s", num_classes=21, loss_layer=""): a built-in
    network (fcn_alexnet, fcn32s, fcn16s, fcn8s, fcn8s_atonce) or a Caffe
    .prototxt file (loss_layer picks the loss of a file with several)."""

    def __init__(self, network="fcn8s", num_classes=21, loss_layer=""):
        super().__init__(_C.FcnNet(network, num_classes, loss_layer))

    @staticmethod
    def from_prototxt(text):
        """A network from prototxt text."""
        return network_module(_C.FcnNet.from_prototxt(text))

    def extra_repr(self):
        return f"name={self.name}, num_classes={self.num_classes}"


class FcnAlexNet(FcnNet):
    """FCN-Alexnet (DIGITS' fcn_alexnet.prototxt) as a torch.nn.Module."""

    def __init__(self, num_classes=21, mean=(116.0,), dropout=0.5):
        Network.__init__(self, _C.FcnAlexNet(num_classes, list(mean), dropout))

    @property
    def crop_offset(self):
        """Crop offset derived from the layer geometry (18)."""
        return self._cpp.crop_offset
