#!/usr/bin/env python3
"""Data-parallel training on one machine, measured in one run:

    /usr/bin/python3 bench/dist_bench.py [--images 48] [--rounds 2] [--build build]

- 2 processes x 1 thread (a 2-rank job over 127.0.0.1, iter_size 1) against
  1 process x 2 threads (iter_size 2): the same updates; images/s of
  FCN-Alexnet training on VOC-sized synthetic images (longest side 500);
- the share of rank 0's training time (epochs, validation included) spent
  averaging gradients, with the all-reduce overlapped with backward and
  after it (--no-overlap);
- same-shape batches: bench/same_shape_bench at iter_size 4 on VOC's sizes,
  and on images all of one size (the ceiling: every update one batch),
  against one image at a time; the peer: the same updates in PyTorch eager
  (bench/peers/pytorch_eager.py), batched and one at a time.
Rounds alternate the variants, so that a slower spell of a shared machine
hits both; figures are medians over rounds.
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import pytorch_eager  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def last_rate(out_dir):
    rate = None
    with open(os.path.join(out_dir, "metrics.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            if record.get("type") == "iteration":
                rate = record["images_per_second"]
    return rate


def train_seconds(out_dir):
    with open(os.path.join(out_dir, "epochs.csv")) as f:
        rows = f.read().strip().splitlines()[1:]
    return sum(float(row.split(",")[-1]) for row in rows)


def run_job(fcnlab, arguments, out):
    """Two ranks of 1 thread; rank 0's images/s and share of time averaging."""
    port = free_port()
    ranks = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port))
        ranks.append(subprocess.Popen([fcnlab, "--threads", "1", *arguments, "--output-dir", out],
                                      env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    outputs = [r.communicate()[0] for r in ranks]
    if any(r.returncode for r in ranks):
        sys.exit("the job failed:\n" + "\n".join(outputs))
    averaging = float(re.search(r"spent ([0-9.e+-]+) s averaging", outputs[0]).group(1))
    return last_rate(out), averaging / train_seconds(out)


def measure(args, fcnlab, scratch):
    voc = os.path.join(scratch, "voc")
    subprocess.run([fcnlab, "synth-voc", voc + ".tar", "--images", str(args.images),
                    "--max-side", "500"], check=True, capture_output=True)
    subprocess.run([fcnlab, "prepare-voc", voc + ".tar", voc], check=True, capture_output=True)
    common = ["train", voc, "--epochs", "1", "--lr", "1e-4"]

    single, job, shares, job_after, shares_after = [], [], [], [], []
    for round_ in range(args.rounds):
        out = os.path.join(scratch, f"single{round_}")
        subprocess.run([fcnlab, "--threads", "2", *common, "--iter-size", "2",
                        "--output-dir", out], check=True, capture_output=True)
        single.append(last_rate(out))

        for overlap in (True, False):
            out = os.path.join(scratch, f"job{round_}{overlap}")
            rate, share = run_job(fcnlab, common + ([] if overlap else ["--no-overlap"]), out)
            (job if overlap else job_after).append(rate)
            (shares if overlap else shares_after).append(share)

    same_shape = os.path.join(args.build, "bench", "same_shape_bench")
    batching, peer = {}, {}
    # VOC's mix of sizes, and all one size: every update one batch, the
    # most that batching can give.
    for mix, flags in (("voc_sizes", []), ("one_size", ["one-size"])):
        out = subprocess.run([same_shape, "375", "500", "16", "2", "rounds3", *flags],
                             check=True, capture_output=True, text=True)
        batching[mix] = json.loads(out.stdout.strip().splitlines()[-1])
        # The peer: the same updates in PyTorch eager, batched and one at a time.
        sizes = pytorch_eager.voc_like_sizes(375, 500, 16)
        if flags:
            sizes = [(375, 500)] * len(sizes)
        rates = {True: [], False: []}
        for _ in range(3):
            for batched in (True, False):
                rates[batched].append(pytorch_eager.accumulation_rate(sizes, 4, 2, batched))
        in_batches, alone = statistics.median(rates[True]), statistics.median(rates[False])
        peer[mix] = {"batched_images_per_second": in_batches,
                     "single_images_per_second": alone, "ratio": in_batches / alone}
    return {
        "one_process_2_threads_images_per_second": statistics.median(single),
        "two_processes_1_thread_images_per_second": statistics.median(job),
        "ratio_two_processes_to_one": statistics.median(job) / statistics.median(single),
        "allreduce_share_of_training_time": statistics.median(shares),
        "two_processes_no_overlap_images_per_second": statistics.median(job_after),
        "allreduce_share_no_overlap": statistics.median(shares_after),
        "same_shape_batches_iter_size_4": batching,
        "pytorch_eager_same_shape_batches_iter_size_4": peer,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    args = parser.parse_args()
    fcnlab = os.path.join(args.build, "fcnlab")
    with tempfile.TemporaryDirectory(prefix="fcnlab_dist_bench_") as scratch:
        print(json.dumps(measure(args, fcnlab, scratch), indent=1))


if __name__ == "__main__":
    main()
