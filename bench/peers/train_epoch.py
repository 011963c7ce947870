#!/usr/bin/env python3
"""One training epoch of FCN-Alexnet in PyTorch eager over a prepare-voc
split, fed by a DataLoader with worker processes; prints JSON with the
epoch's images and seconds.

    train_epoch.py SPLIT_DIR --workers 2 --threads 2
"""
import argparse
import json
import time

import torch

from pil_loader import VocSplit
from pytorch_eager import training_setup, training_step


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("split_dir")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    net, optimizer = training_setup(args.threads)
    loader = torch.utils.data.DataLoader(
        VocSplit(args.split_dir), batch_size=1, shuffle=True, num_workers=args.workers)
    start = time.perf_counter()
    images = 0
    for bgr, label in loader:
        training_step(net, optimizer, bgr, label)
        images += 1
    print(json.dumps({"images": images, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
