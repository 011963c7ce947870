"""The Python peer: FCN-Alexnet or FCN-8s in PyTorch eager mode (same
libtorch as fcnlab), timed the way a Python user would run it."""
import contextlib
import time

import torch
import torch.nn.functional as F

from fcn8s_torch import Fcn8sTorch
from fcn_alexnet_torch import FcnAlexNetTorch

NETWORKS = {"fcn_alexnet": FcnAlexNetTorch, "fcn8s": Fcn8sTorch}


AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device, amp):
    """torch.autocast on the device for "bf16"/"fp16", nothing for None."""
    if amp is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=AMP_DTYPES[amp])


def synchronize(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def inference_ms(height, width, iterations, threads, network="fcn_alexnet", device="cpu",
                 amp=None):
    """Milliseconds per batch-1 forward pass in eval mode under no_grad, one
    per iteration after two warm-up passes (finished on the device)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = NETWORKS[network]().eval().to(device)
    image = torch.rand(1, 3, height, width, device=device) * 255
    times = []
    with torch.no_grad(), autocast(device, amp):
        for i in range(iterations + 2):
            start = time.perf_counter()
            net(image)
            synchronize(device)
            if i >= 2:
                times.append((time.perf_counter() - start) * 1000)
    return times


def training_setup(threads, network="fcn_alexnet", device="cpu"):
    """A seeded network in train mode and SGD with momentum and weight decay
    over its trainable weights (the upsamplings are fixed): DIGITS' rate for
    FCN-Alexnet, FCN's for FCN-8s and its summed loss."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = NETWORKS[network]().train().to(device)
    params = [p for p in net.parameters() if p.requires_grad]
    lr, momentum = (1e-4, 0.9) if network == "fcn_alexnet" else (1e-10, 0.99)
    return net, torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=5e-4)


def training_step(net, optimizer, image, label, reduction="mean", amp=None, scaler=None):
    """Forward (under autocast for amp), cross entropy (255 ignored) in float32,
    backward (loss-scaled with a GradScaler for fp16) and the update."""
    with autocast(image.device, amp):
        scores = net(image)
    loss = F.cross_entropy(scores.float(), label, ignore_index=255, reduction=reduction)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    optimizer.zero_grad()


def training_rate(height, width, steps, threads, network="fcn_alexnet", device="cpu", amp=None):
    """Images per second of batch-1 training steps, alternating height x width
    and width x height, after two warm-up steps (finished on the device)."""
    net, optimizer = training_setup(threads, network, device)
    scaler = torch.cuda.amp.GradScaler() if amp == "fp16" else None
    reduction = "mean" if network == "fcn_alexnet" else "sum"
    images = [torch.rand(1, 3, height, width, device=device) * 255,
              torch.rand(1, 3, width, height, device=device) * 255]
    labels = [torch.randint(0, 21, (1, height, width), device=device),
              torch.randint(0, 21, (1, width, height), device=device)]
    seconds = 0.0
    for i in range(steps + 2):
        start = time.perf_counter()
        training_step(net, optimizer, images[i % 2], labels[i % 2], reduction, amp, scaler)
        synchronize(device)
        if i >= 2:
            seconds += time.perf_counter() - start
    return steps / seconds


def count_gflop(height, width, network="fcn_alexnet"):
    """2 x multiply-adds of every convolution (and the upscores) of one
    forward pass, counted with hooks on the PyTorch model."""
    net = NETWORKS[network]().eval()
    total = []

    def hook(module, inputs, output):
        # Each output (convolution) or input (deconvolution) value takes
        # weight[0].numel() multiply-adds: (in or out / groups) x kh x kw.
        if isinstance(module, torch.nn.ConvTranspose2d):
            total.append(2 * inputs[0].numel() * module.weight[0].numel())
        else:
            total.append(2 * output.numel() * module.weight[0].numel())

    for module in net.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            module.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros(1, 3, height, width))
    return sum(total) / 1e9


def sgemm_gflops(threads, size=2048, repeats=5):
    """Best GFLOP/s of a size x size float matrix product (the BLAS peak)."""
    return cpu_gemm_gflops(threads, torch.float32, size, repeats)


def cpu_gemm_gflops(threads, dtype, size=2048, repeats=5):
    """Best GFLOP/s of a size x size matrix product in `dtype` on the CPU."""
    torch.set_num_threads(threads)
    a = torch.rand(size, size).to(dtype)
    b = torch.rand(size, size).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def gemm_tflops(device, dtype, size=8192, repeats=10):
    """Best TFLOP/s of a size x size matrix product on a GPU in `dtype` (the
    peak that MFU is measured against; float32 with TF32 as cuDNN uses it)."""
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    a = torch.rand(size, size, device=device, dtype=dtype)
    b = torch.rand(size, size, device=device, dtype=dtype)
    torch.mm(a, b)
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    torch.backends.cuda.matmul.allow_tf32 = previous
    return 2 * size ** 3 / best / 1e12


def voc_like_sizes(height, width, count):
    """same_shape_bench's image sizes: HxW, WxH and Hx(2/3 W) about 6 : 3 : 1."""
    sizes = []
    for i in range(count):
        kind = i % 10
        sizes.append((height, width) if kind < 6 else (width, height) if kind < 9
                     else (height, width * 2 // 3))
    return sizes


def accumulation_rate(sizes, iter_size, threads, batched):
    """Images per second of FCN-Alexnet training updates of iter_size images
    each (SGD, DIGITS' rate), in the given order: each image on its own
    (batch 1, gradients accumulated), or the images of equal size within an
    update as one batch with their per-image losses summed."""
    net, optimizer = training_setup(threads)
    torch.manual_seed(1)
    samples = [(torch.rand(1, 3, h, w) * 255, torch.randint(0, 21, (1, h, w)))
               for h, w in sizes]
    start = time.perf_counter()
    for first in range(0, len(samples), iter_size):
        update = samples[first:first + iter_size]
        groups = {}
        for image, label in update:
            key = tuple(image.shape) if batched else len(groups)
            groups.setdefault(key, []).append((image, label))
        for group in groups.values():
            images = torch.cat([image for image, _ in group])
            labels = torch.cat([label for _, label in group])
            scores = net(images)
            # The mean over each image's pixels, summed over the images.
            losses = F.cross_entropy(scores, labels, ignore_index=255, reduction="none")
            losses.flatten(1).mean(1).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    return len(samples) / (time.perf_counter() - start)
