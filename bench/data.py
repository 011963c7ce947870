#!/usr/bin/env python3
"""Data loading: fcnlab's Loader against a Python loop (PIL + numpy) decoding
the same synthetic VOC files into the same arrays, and the create-db rate,
measured in the same run.

    /usr/bin/python3 bench/data.py [--images 200 --workers 2]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from PIL import Image


def python_epoch(split_dir):
    names = sorted(os.listdir(os.path.join(split_dir, "images")))
    start = time.perf_counter()
    for name in names:
        stem = os.path.splitext(name)[0]
        rgb = np.asarray(Image.open(os.path.join(split_dir, "images", name)).convert("RGB"))
        image = rgb[:, :, ::-1].transpose(2, 0, 1).astype(np.float32)  # BGR CHW
        label = np.asarray(Image.open(os.path.join(split_dir, "labels", stem + ".png"))).astype(np.int64)
        assert image.shape[1:] == label.shape
    return len(names), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--build-dir", default="build")
    args = parser.parse_args()
    cli = os.path.join(args.build_dir, "fcnlab")
    with tempfile.TemporaryDirectory() as tmp:
        tar = os.path.join(tmp, "voc.tar")
        voc = os.path.join(tmp, "voc")
        subprocess.run([cli, "synth-voc", tar, "--images", str(args.images),
                        "--val-fraction", "0.1"], check=True, capture_output=True)
        subprocess.run([cli, "prepare-voc", tar, voc], check=True, capture_output=True)
        split = os.path.join(voc, "train")
        out = subprocess.run(
            [os.path.join(args.build_dir, "bench", "data_bench"), split, str(args.workers)],
            check=True, capture_output=True, text=True)
        ours = json.loads(out.stdout)
        count, python_seconds = python_epoch(split)
        start = time.perf_counter()
        subprocess.run([cli, "create-db", "--train-images", os.path.join(split, "images"),
                        "--train-labels", os.path.join(split, "labels"), "--workers",
                        str(args.workers), "--out", os.path.join(tmp, "db")],
                       check=True, capture_output=True)
        create_seconds = time.perf_counter() - start
    ours_rate = ours["images"] / ours["seconds"]
    python_rate = count / python_seconds
    print(f"decode + convert, {count} synthetic VOC images (500 px), {args.workers} workers")
    print(f"{'fcnlab Loader':<24}{ours_rate:10.1f} images/s   {ours_rate / python_rate:.2f}x")
    print(f"{'PIL + numpy loop':<24}{python_rate:10.1f} images/s   1.00x")
    print(f"{'fcnlab create-db':<24}{count / create_seconds:10.1f} images/s (PNG features)")


if __name__ == "__main__":
    main()
