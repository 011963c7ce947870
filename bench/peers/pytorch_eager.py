"""The Python peer: FCN-Alexnet or FCN-8s in PyTorch eager mode (same
libtorch as fcnlab), timed the way a Python user would run it."""
import time

import torch
import torch.nn.functional as F

from fcn8s_torch import Fcn8sTorch
from fcn_alexnet_torch import FcnAlexNetTorch

NETWORKS = {"fcn_alexnet": FcnAlexNetTorch, "fcn8s": Fcn8sTorch}


def inference_ms(height, width, iterations, threads, network="fcn_alexnet"):
    """Milliseconds per batch-1 forward pass in eval mode under no_grad, one
    per iteration after two warm-up passes."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = NETWORKS[network]().eval()
    image = torch.rand(1, 3, height, width) * 255
    times = []
    with torch.no_grad():
        for i in range(iterations + 2):
            start = time.perf_counter()
            net(image)
            if i >= 2:
                times.append((time.perf_counter() - start) * 1000)
    return times


def training_setup(threads, network="fcn_alexnet"):
    """A seeded network in train mode and SGD with momentum and weight decay
    over its trainable weights (the upsamplings are fixed): DIGITS' rate for
    FCN-Alexnet, FCN's for FCN-8s and its summed loss."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = NETWORKS[network]().train()
    params = [p for p in net.parameters() if p.requires_grad]
    lr, momentum = (1e-4, 0.9) if network == "fcn_alexnet" else (1e-10, 0.99)
    return net, torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=5e-4)


def training_step(net, optimizer, image, label, reduction="mean"):
    """Forward, cross entropy (255 ignored), backward and the update."""
    F.cross_entropy(net(image), label, ignore_index=255, reduction=reduction).backward()
    optimizer.step()
    optimizer.zero_grad()


def training_rate(height, width, steps, threads, network="fcn_alexnet"):
    """Images per second of batch-1 training steps, alternating height x width
    and width x height, after two warm-up steps."""
    net, optimizer = training_setup(threads, network)
    reduction = "mean" if network == "fcn_alexnet" else "sum"
    images = [torch.rand(1, 3, height, width) * 255, torch.rand(1, 3, width, height) * 255]
    labels = [torch.randint(0, 21, (1, height, width)), torch.randint(0, 21, (1, width, height))]
    seconds = 0.0
    for i in range(steps + 2):
        start = time.perf_counter()
        training_step(net, optimizer, images[i % 2], labels[i % 2], reduction)
        if i >= 2:
            seconds += time.perf_counter() - start
    return steps / seconds


def count_gflop(height, width):
    """2 x multiply-adds of every convolution (and the upscore) of one
    forward pass, counted with hooks on the PyTorch model."""
    net = FcnAlexNetTorch().eval()
    total = []

    def hook(module, inputs, output):
        per_output = module.weight[0].numel()  # (in / groups) * kh * kw
        if isinstance(module, torch.nn.ConvTranspose2d):
            total.append(2 * inputs[0].numel() * module.weight[0].numel() * module.out_channels // module.groups)
        else:
            total.append(2 * output.numel() * per_output)

    for module in net.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            module.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros(1, 3, height, width))
    return sum(total) / 1e9


def sgemm_gflops(threads, size=2048, repeats=5):
    """Best GFLOP/s of a size x size float matrix product (the BLAS peak)."""
    torch.set_num_threads(threads)
    a, b = torch.rand(size, size), torch.rand(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9
