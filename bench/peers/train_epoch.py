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
import torch.nn.functional as F

from fcn_alexnet_torch import FcnAlexNetTorch
from pil_loader import VocSplit


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("split_dir")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = FcnAlexNetTorch().train()
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1e-4, momentum=0.9, weight_decay=5e-4)
    loader = torch.utils.data.DataLoader(
        VocSplit(args.split_dir), batch_size=1, shuffle=True, num_workers=args.workers)
    start = time.perf_counter()
    images = 0
    for bgr, label in loader:
        loss = F.cross_entropy(net(bgr), label, ignore_index=255)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        images += 1
    print(json.dumps({"images": images, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
