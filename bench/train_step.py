#!/usr/bin/env python3
"""Training throughput, batch 1, alternating 500x375 and 375x500 images:
fcnlab (C++: forward, loss, backward, Caffe SGD) against the same loop in
PyTorch eager (same libtorch), measured in the same run.

    /usr/bin/python3 bench/train_step.py [--steps 8 --threads 2]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "peers"))
from fcn_alexnet_torch import FcnAlexNetTorch  # noqa: E402


def python_rate(height, width, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = FcnAlexNetTorch().train()
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1e-4, momentum=0.9, weight_decay=5e-4)
    images = [torch.rand(1, 3, height, width) * 255, torch.rand(1, 3, width, height) * 255]
    labels = [torch.randint(0, 21, (1, height, width)), torch.randint(0, 21, (1, width, height))]
    times = []
    for i in range(steps + 2):
        start = time.perf_counter()
        loss = F.cross_entropy(net(images[i % 2]), labels[i % 2], ignore_index=255)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if i >= 2:
            times.append(time.perf_counter() - start)
    return len(times) / sum(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--height", type=int, default=375)
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--build-dir", default="build")
    args = parser.parse_args()
    out = subprocess.run(
        [os.path.join(args.build_dir, "bench", "train_bench"), str(args.height),
         str(args.width), str(args.steps), str(args.threads)],
        check=True, capture_output=True, text=True)
    ours = json.loads(out.stdout)["images_per_second"]
    theirs = python_rate(args.height, args.width, args.steps, args.threads)
    print(f"FCN-Alexnet training step, batch 1, {args.height}x{args.width} and "
          f"{args.width}x{args.height}, {args.threads} threads, torch {torch.__version__}")
    print(f"{'fcnlab C++':<16}{ours:8.3f} images/s   {ours / theirs:.2f}x")
    print(f"{'PyTorch eager':<16}{theirs:8.3f} images/s   1.00x")


if __name__ == "__main__":
    main()
