#!/usr/bin/env python3
"""fcnlab on a CUDA GPU against the same networks in PyTorch eager on the same
GPU, measured in one run: FCN-Alexnet and FCN-8s at 500x375, batch 1,
inference and training, float32 (cuDNN's default TF32) and autocast bf16 /
fp16, with MFU against the GPU's own measured matrix-product peak.

    python3 bench/gpu_run.py --build-dir build-cuda [--json out.json] [--quick]

Needs a CUDA build (scripts/build-cuda.sh) and PyTorch with CUDA. Rounds
alternate fcnlab and PyTorch; figures are medians over rounds.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peers"))
import pytorch_eager  # noqa: E402

HEIGHT, WIDTH = 375, 500
NETWORKS = ("fcn_alexnet", "fcn8s")
PRECISIONS = ("fp32", "bf16", "fp16")


def run_json(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(args, network, precision, mode):
    """(fcnlab, pytorch) images/s, medians over rounds."""
    amp = None if precision == "fp32" else precision
    flags = ["cuda"] + ([amp] if amp else []) + (["fcn8s"] if network == "fcn8s" else [])
    count = str(args.iterations)
    ours, theirs = [], []
    for _ in range(args.rounds):
        if mode == "inference":
            result = run_json([os.path.join(args.build_dir, "bench", "forward_bench"),
                               str(HEIGHT), str(WIDTH), count, "1", *flags])
            ours.append(1000.0 / result["median_ms"])
            times = pytorch_eager.inference_ms(HEIGHT, WIDTH, args.iterations, 1, network,
                                               "cuda", amp)
            theirs.append(1000.0 / statistics.median(times))
        else:
            result = run_json([os.path.join(args.build_dir, "bench", "train_bench"),
                               str(HEIGHT), str(WIDTH), count, "1", *flags])
            ours.append(result["images_per_second"])
            theirs.append(pytorch_eager.training_rate(HEIGHT, WIDTH, args.iterations, 1,
                                                      network, "cuda", amp))
    return statistics.median(ours), statistics.median(theirs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="build-cuda")
    parser.add_argument("--json", default="")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="1 round of 5")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.iterations = 1, 5
    if not torch.cuda.is_available():
        sys.exit("gpu_run: no CUDA GPU visible to PyTorch")

    peak = {"fp32": pytorch_eager.gemm_tflops("cuda", torch.float32),
            "bf16": pytorch_eager.gemm_tflops("cuda", torch.bfloat16),
            "fp16": pytorch_eager.gemm_tflops("cuda", torch.float16)}
    results = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
               "size": f"{WIDTH}x{HEIGHT}", "gemm_peak_tflops": peak, "rows": []}
    print(f"{results['gpu']}, torch {results['torch']}, GEMM peak (TFLOP/s): "
          + ", ".join(f"{k} {v:.0f}" for k, v in peak.items()), file=sys.stderr)
    for network in NETWORKS:
        gflop = pytorch_eager.count_gflop(HEIGHT, WIDTH, network)
        for mode in ("inference", "training"):
            # A training step: forward, and a backward of about twice its work.
            gflop_per_image = gflop * (1 if mode == "inference" else 3)
            for precision in PRECISIONS:
                ours, theirs = measure(args, network, precision, mode)
                row = {"network": network, "mode": mode, "precision": precision,
                       "fcnlab_images_per_second": ours,
                       "pytorch_images_per_second": theirs,
                       "ratio": ours / theirs,
                       "fcnlab_mfu": ours * gflop_per_image / 1000 / peak[precision],
                       "pytorch_mfu": theirs * gflop_per_image / 1000 / peak[precision],
                       "gflop_per_image": gflop_per_image}
                results["rows"].append(row)
                print(f"{network:12s} {mode:9s} {precision}: fcnlab {ours:8.1f} img/s "
                      f"(MFU {row['fcnlab_mfu']:.1%}), PyTorch {theirs:8.1f} img/s "
                      f"(MFU {row['pytorch_mfu']:.1%}), ratio {row['ratio']:.2f}",
                      file=sys.stderr)
    text = json.dumps(results, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
