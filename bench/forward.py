#!/usr/bin/env python3
"""FCN-Alexnet inference, batch 1, eval mode: fcnlab (C++) against the same
model in PyTorch eager, measured in the same run on the same machine.

    /usr/bin/python3 bench/forward.py [--height 375 --width 500 --threads 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "peers"))
from fcn_alexnet_torch import FcnAlexNetTorch  # noqa: E402


def time_python(height, width, iterations, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = FcnAlexNetTorch().eval()
    image = torch.rand(1, 3, height, width) * 255
    times = []
    with torch.no_grad():
        for _ in range(2):
            net(image)
        for _ in range(iterations):
            start = time.perf_counter()
            net(image)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--height", type=int, default=375)
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--build-dir", default="build")
    args = parser.parse_args()

    binary = os.path.join(args.build_dir, "bench", "forward_bench")
    out = subprocess.run(
        [binary, str(args.height), str(args.width), str(args.iterations),
         str(args.threads)], check=True, capture_output=True, text=True)
    cpp = json.loads(out.stdout)["median_ms"]
    python = time_python(args.height, args.width, args.iterations, args.threads)
    print(f"FCN-Alexnet forward {args.height}x{args.width}, batch 1, "
          f"{args.threads} threads, torch {torch.__version__}")
    print(f"{'fcnlab C++':<16}{cpp:10.1f} ms   1.00x")
    print(f"{'PyTorch eager':<16}{python:10.1f} ms   {python / cpp:.2f}x "
          "(time relative to fcnlab)")


if __name__ == "__main__":
    main()
