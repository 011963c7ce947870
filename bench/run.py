#!/usr/bin/env python3
"""fcnlab against its peers, measured in one run on this machine; prints a
table and writes it as JSON.

    /usr/bin/python3 bench/run.py [--quick] [--json bench/results.json]

Needs a build (scripts/build.sh). Peers: the same FCN-Alexnet and FCN-8s in
PyTorch eager (same libtorch), OpenCV's dnn module running fcnlab's exported
caffemodels, ONNX Runtime running fcnlab's ONNX export (when
scripts/install-onnxruntime.sh has installed it), a PIL + numpy decoder and a
PyTorch DataLoader. Timed sections
alternate fcnlab and its peers round by round, so that a slower spell of a
shared machine hits both; each figure is the median over rounds. Everything
runs with the allocator settings of the fcnlab CLI (reuse_freed_memory:
glibc keeps freed large blocks instead of unmapping them), set here in the
environment, so that the peers measured in this process and its children
get them too.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peers"))
import pytorch_eager  # noqa: E402
from pil_loader import decode, image_names  # noqa: E402

HEIGHT, WIDTH = 375, 500  # a VOC landscape image: 500 wide, 375 high

# glibc's equivalent of fcnlab::reuse_freed_memory(), for this interpreter
# (re-executed with it) and every child.
ALLOCATOR = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def run_json(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


ORT_RUNNER = os.path.join(HERE, "..", "scripts", "ort_run.js")
ORT_PACKAGE = os.path.join(HERE, "..", "third_party", "node", "node_modules", "onnxruntime-node")


def onnx_runtime_ms(model, height, width, iterations, threads, scratch):
    """Median ms of ONNX Runtime running `model` on one random image, the
    session made once and its first run (warm-up) left out; None when ONNX
    Runtime is not installed."""
    if not shutil.which("node") or not os.path.isdir(ORT_PACKAGE):
        return None
    image = os.path.join(scratch, "image.bin")
    (torch.rand(1, 3, height, width) * 255).numpy().tofile(image)
    out = run_json(["node", ORT_RUNNER, model, str(iterations + 1), str(threads), image,
                    f"1,3,{height},{width}", os.path.join(scratch, "ort_out.bin")])
    return 1000 * statistics.median(out["seconds"][1:])


def median_of_rounds(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "rounds": values}


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = args.build_dir
        self.threads = str(args.threads)
        self.results = {}
        self.scratch = tempfile.mkdtemp(prefix="fcnlab_bench_")

    def binary(self, name):
        return os.path.join(self.build, "bench", name)

    def cli(self, *arguments):
        subprocess.run([os.path.join(self.build, "fcnlab"), "--threads", self.threads,
                        *arguments], check=True, capture_output=True)

    def log(self, text):
        print(text, file=sys.stderr, flush=True)

    def peak(self):
        self.log("peak: SGEMM 2048^3")
        self.results["sgemm_peak_gflops"] = pytorch_eager.sgemm_gflops(self.args.threads)
        self.results["gflop_per_forward"] = pytorch_eager.count_gflop(HEIGHT, WIDTH)

    def inference(self):
        n = str(self.args.iterations)
        ours, plain, nhwc, python, opencv, ort, difference = [], [], [], [], [], [], None
        direct = []
        sgemm = [self.results.get("sgemm_peak_gflops", 0.0)]
        forward = [self.binary("forward_bench"), str(HEIGHT), str(WIDTH), n, self.threads]
        for r in range(self.args.rounds):
            self.log(f"inference round {r + 1}/{self.args.rounds}")
            ours.append(run_json(forward)["median_ms"])
            plain.append(run_json(forward + ["plain"])["median_ms"])
            nhwc.append(run_json(forward + ["channels_last"])["median_ms"])
            direct.append(run_json(forward + ["direct"])["median_ms"])
            python.append(statistics.median(pytorch_eager.inference_ms(
                HEIGHT, WIDTH, self.args.iterations, self.args.threads)))
            cv = run_json([self.binary("opencv_bench"), str(HEIGHT), str(WIDTH), n,
                           self.threads, self.scratch])
            opencv.append(cv["median_ms"])
            difference = cv["relative_difference"]
            ort.append(onnx_runtime_ms(cv["onnx"], HEIGHT, WIDTH, self.args.iterations,
                                       self.args.threads, self.scratch))
            # A peak read in one slow spell would overstate every percentage.
            sgemm.append(pytorch_eager.sgemm_gflops(self.args.threads))
        self.results["inference_ms"] = {
            "fcnlab": median_of_rounds(ours), "fcnlab_plain_layers": median_of_rounds(plain),
            "fcnlab_channels_last": median_of_rounds(nhwc),
            "fcnlab_direct": median_of_rounds(direct),
            "pytorch_eager": median_of_rounds(python), "opencv_dnn": median_of_rounds(opencv),
            "opencv_relative_difference": difference}
        if None not in ort:
            self.results["inference_ms"]["onnx_runtime"] = median_of_rounds(ort)
        self.results["sgemm_peak_gflops"] = max(sgemm)

    def bf16(self):
        """bfloat16 autocast against float32, for FCN-Alexnet and FCN-8s
        inference and FCN-Alexnet training, with PyTorch eager in bf16 as the
        peer and the bf16 GEMM peak of the run."""
        n, steps = str(self.args.iterations), str(self.args.train_steps)
        peak = [pytorch_eager.cpu_gemm_gflops(self.args.threads, torch.bfloat16)]
        inference = {}
        for network in ["fcn_alexnet", "fcn8s"]:
            forward = [self.binary("forward_bench"), str(HEIGHT), str(WIDTH), n, self.threads]
            if network == "fcn8s":
                forward.append("fcn8s")
            fp32, direct, bf16, eager = [], [], [], []
            for r in range(self.args.rounds):
                self.log(f"bf16 {network} round {r + 1}/{self.args.rounds}")
                fp32.append(run_json(forward)["median_ms"])
                direct.append(run_json(forward + ["direct"])["median_ms"])
                bf16.append(run_json(forward + ["bf16"])["median_ms"])
                eager.append(statistics.median(pytorch_eager.inference_ms(
                    HEIGHT, WIDTH, self.args.iterations, self.args.threads, network,
                    amp="bf16")))
            inference[network] = {"fcnlab_fp32": median_of_rounds(fp32),
                                  "fcnlab_fp32_direct": median_of_rounds(direct),
                                  "fcnlab_bf16": median_of_rounds(bf16),
                                  "pytorch_eager_bf16": median_of_rounds(eager)}
        train = [self.binary("train_bench"), str(HEIGHT), str(WIDTH), steps, self.threads]
        fp32, bf16 = [], []
        for r in range(self.args.rounds):
            self.log(f"bf16 training round {r + 1}/{self.args.rounds}")
            fp32.append(run_json(train)["images_per_second"])
            bf16.append(run_json(train + ["bf16"])["images_per_second"])
            peak.append(pytorch_eager.cpu_gemm_gflops(self.args.threads, torch.bfloat16))
        self.results["bf16"] = {
            "native": cpu_has_native_bf16(), "gemm_peak_gflops": max(peak),
            "inference_ms": inference,
            "training_images_per_second": {"fcnlab_fp32": median_of_rounds(fp32),
                                           "fcnlab_bf16": median_of_rounds(bf16)}}
        for key, network in [("gflop_per_forward", "fcn_alexnet"),
                             ("fcn8s_gflop_per_forward", "fcn8s")]:
            if key not in self.results:
                self.results[key] = pytorch_eager.count_gflop(HEIGHT, WIDTH, network)

    def training(self):
        steps = self.args.train_steps
        ours, plain, nhwc, python, peak_rss = [], [], [], [], 0.0
        train = [self.binary("train_bench"), str(HEIGHT), str(WIDTH), str(steps), self.threads]
        for r in range(self.args.rounds):
            self.log(f"training round {r + 1}/{self.args.rounds}")
            measured = run_json(train)
            ours.append(measured["images_per_second"])
            peak_rss = max(peak_rss, measured["peak_rss_mib"])
            plain.append(run_json(train + ["plain"])["images_per_second"])
            nhwc.append(run_json(train + ["channels_last"])["images_per_second"])
            python.append(pytorch_eager.training_rate(HEIGHT, WIDTH, steps, self.args.threads))
        self.results["training_images_per_second"] = {
            "fcnlab": median_of_rounds(ours), "fcnlab_plain_layers": median_of_rounds(plain),
            "fcnlab_channels_last": median_of_rounds(nhwc),
            "pytorch_eager": median_of_rounds(python), "fcnlab_peak_rss_mib": peak_rss}

    def fcn8s(self):
        """FCN-8s (VGG16) inference and training steps against the same
        network in PyTorch eager and, for inference, OpenCV dnn."""
        n, steps = str(self.args.iterations), self.args.train_steps
        ours, direct, python, opencv, ort, difference = [], [], [], [], [], None
        train_ours, train_python, peak_rss = [], [], 0.0
        forward = [self.binary("forward_bench"), str(HEIGHT), str(WIDTH), n, self.threads,
                   "fcn8s"]
        train = [self.binary("train_bench"), str(HEIGHT), str(WIDTH), str(steps),
                 self.threads, "fcn8s"]
        for r in range(self.args.rounds):
            self.log(f"fcn8s round {r + 1}/{self.args.rounds}")
            ours.append(run_json(forward)["median_ms"])
            direct.append(run_json(forward + ["direct"])["median_ms"])
            python.append(statistics.median(pytorch_eager.inference_ms(
                HEIGHT, WIDTH, self.args.iterations, self.args.threads, "fcn8s")))
            cv = run_json([self.binary("opencv_bench"), str(HEIGHT), str(WIDTH), n,
                           self.threads, self.scratch, "fcn8s"])
            opencv.append(cv["median_ms"])
            difference = cv["relative_difference"]
            ort.append(onnx_runtime_ms(cv["onnx"], HEIGHT, WIDTH, self.args.iterations,
                                       self.args.threads, self.scratch))
            measured = run_json(train)
            train_ours.append(measured["images_per_second"])
            peak_rss = max(peak_rss, measured["peak_rss_mib"])
            train_python.append(pytorch_eager.training_rate(
                HEIGHT, WIDTH, steps, self.args.threads, "fcn8s"))
        self.results["fcn8s"] = {
            "inference_ms": {"fcnlab": median_of_rounds(ours),
                             "fcnlab_direct": median_of_rounds(direct),
                             "pytorch_eager": median_of_rounds(python),
                             "opencv_dnn": median_of_rounds(opencv),
                             "opencv_relative_difference": difference},
            "training_images_per_second": {"fcnlab": median_of_rounds(train_ours),
                                           "pytorch_eager": median_of_rounds(train_python)},
            "training_peak_rss_mib": peak_rss}
        if None not in ort:
            self.results["fcn8s"]["inference_ms"]["onnx_runtime"] = median_of_rounds(ort)
        if "fcn8s_gflop_per_forward" not in self.results:
            self.results["fcn8s_gflop_per_forward"] = pytorch_eager.count_gflop(
                HEIGHT, WIDTH, "fcn8s")

    def voc_split(self, images):
        """A prepare-voc train split of `images` synthetic VOC images (500 px)."""
        voc = os.path.join(self.scratch, f"voc{images}")
        if not os.path.isdir(voc):
            tar = voc + ".tar"
            # synth-voc keeps at least one validation image.
            self.cli("synth-voc", tar, "--images", str(images + 1),
                     "--val-fraction", str(1 / (images + 1)))
            self.cli("prepare-voc", tar, voc)
        return os.path.join(voc, "train")

    def epoch(self):
        split = self.voc_split(self.args.epoch_images)
        ours, python, images = [], [], 0
        for r in range(self.args.epoch_rounds):
            self.log(f"epoch round {r + 1}/{self.args.epoch_rounds}")
            out = os.path.join(self.scratch, f"train{r}")
            self.cli("train", "--train-images", os.path.join(split, "images"),
                     "--train-labels", os.path.join(split, "labels"), "--epochs", "1",
                     "--workers", "2", "--output-dir", out)
            with open(os.path.join(out, "metrics.jsonl")) as log:
                epochs = [json.loads(line) for line in log if '"epoch"' in line]
            ours.append([e for e in epochs if e.get("type") == "epoch"][-1]["seconds"])
            subprocess.run(["rm", "-rf", out], check=True)
            peer = run_json([sys.executable, os.path.join(HERE, "peers", "train_epoch.py"),
                             split, "--workers", "2", "--threads", self.threads])
            python.append(peer["seconds"])
            images = peer["images"]
        self.results["epoch_seconds"] = {
            "images": images, "fcnlab": median_of_rounds(ours),
            "pytorch_dataloader": median_of_rounds(python)}

    def data(self):
        split = self.voc_split(self.args.loader_images)
        ours, python = [], []
        names = image_names(split)
        for r in range(self.args.rounds):
            self.log(f"data round {r + 1}/{self.args.rounds}")
            out = run_json([self.binary("data_bench"), split, "2"])
            ours.append(out["images"] / out["seconds"])
            start = time.perf_counter()
            for name in names:
                decode(split, name)
            python.append(len(names) / (time.perf_counter() - start))
        self.results["loader_images_per_second"] = {
            "fcnlab": median_of_rounds(ours), "pil_numpy": median_of_rounds(python)}

    def profile(self):
        self.log("profile: inference layer by layer")
        self.results["profile_ms"] = run_json(
            [self.binary("profile_bench"), str(HEIGHT), str(WIDTH), str(self.args.iterations),
             self.threads])

    def solver(self):
        self.log("solver: one update of FCN-Alexnet's parameters, one pass vs one op per term")
        self.results["solver_update_ms"] = run_json(
            [self.binary("solver_bench"), str(10 * self.args.rounds), self.threads])

    def memory(self):
        steps = self.args.memory_steps
        height, width = self.args.memory_size
        self.log(f"memory: {steps} training steps at {height}x{width}")
        self.results["training_memory"] = run_json(
            [self.binary("train_bench"), str(height), str(width), str(steps), self.threads])
        self.results["training_memory"]["size"] = f"{height}x{width}"

    def run(self):
        self.results["machine"] = {
            "cpu": cpu_name(), "cores": os.cpu_count(), "threads": self.args.threads,
            "torch": torch.__version__, "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d"), "allocator": ALLOCATOR}
        try:
            for section in self.args.sections:
                getattr(self, section)()
        finally:
            shutil.rmtree(self.scratch)
        return self.results


def height_by_width(text):
    """(height, width) from "HEIGHTxWIDTH", both positive."""
    try:
        height, width = (int(v) for v in text.split("x"))
    except ValueError:
        height = width = 0
    if height < 1 or width < 1:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 375x500, got {text!r}")
    return height, width


def cpu_has_native_bf16():
    with open("/proc/cpuinfo") as info:
        flags = info.read()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_name():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def table(results):
    """Markdown rows: benchmark, fcnlab, peer, ratio (fcnlab / peer), target."""
    rows = []

    def verdict(met):
        return " (met)" if met else " (missed)"

    peak = results.get("sgemm_peak_gflops")
    gflop = results.get("gflop_per_forward")
    if "inference_ms" in results:
        r = {k: v["median"] for k, v in results["inference_ms"].items() if isinstance(v, dict)}
        ours = r["fcnlab"]
        what = f"inference {WIDTH}x{HEIGHT}, batch 1 (ms)"
        for key, name, limit in [("pytorch_eager", "PyTorch eager", 0.75),
                                 ("opencv_dnn", "OpenCV dnn", 1.0),
                                 ("onnx_runtime", "ONNX Runtime (fcnlab's export)", 0.9),
                                 ("fcnlab_plain_layers", "fcnlab, plain LibTorch layers", None),
                                 ("fcnlab_channels_last", "fcnlab, channels-last input", None),
                                 ("fcnlab_direct", "fcnlab, direct 3x3 convolutions", None)]:
            if key not in r:
                continue
            ratio = ours / r[key]
            target = "" if limit is None else f"<= {limit}x" + verdict(ratio <= limit)
            rows.append((what, f"{ours:.0f}", f"{name} {r[key]:.0f}", f"{ratio:.2f}x", target))
            what = ""
        if gflop and peak:
            def rate(ms):
                achieved = gflop / (ms / 1000)
                return f"{achieved:.0f} ({100 * achieved / peak:.0f}% of peak)"
            peers = f"PyTorch eager {rate(r['pytorch_eager'])}, OpenCV dnn {rate(r['opencv_dnn'])}"
            if "onnx_runtime" in r:
                peers += f", ONNX Runtime {rate(r['onnx_runtime'])}"
            rows.append((f"GFLOP/s at {gflop:.1f} GFLOP per forward", rate(ours), peers, "", ""))
    if "training_images_per_second" in results:
        r = {k: v["median"] for k, v in results["training_images_per_second"].items()
             if isinstance(v, dict)}
        ours = r["fcnlab"]
        what = "training step, 500x375 / 375x500 (img/s)"
        for key, name, limit in [("pytorch_eager", "PyTorch eager", 0.8),
                                 ("fcnlab_plain_layers", "fcnlab, plain LibTorch layers", None),
                                 ("fcnlab_channels_last", "fcnlab, channels-last input", None)]:
            if key not in r:
                continue
            time_ratio = r[key] / ours
            target = "" if limit is None else f"<= {limit}x" + verdict(time_ratio <= limit)
            rows.append((what, f"{ours:.3f}", f"{name} {r[key]:.3f}",
                         f"{time_ratio:.2f}x time", target))
            what = ""
    if "epoch_seconds" in results:
        r = results["epoch_seconds"]
        ours, theirs = r["fcnlab"]["median"], r["pytorch_dataloader"]["median"]
        rows.append((f"epoch of {r['images']} synthetic VOC images (s)", f"{ours:.1f}",
                     f"PyTorch + DataLoader(2 workers) {theirs:.1f}", f"{ours / theirs:.2f}x", ""))
    if "loader_images_per_second" in results:
        r = results["loader_images_per_second"]
        ours, theirs = r["fcnlab"]["median"], r["pil_numpy"]["median"]
        rows.append(("loader decode, 2 workers (img/s)", f"{ours:.0f}",
                     f"PIL + numpy, 1 process {theirs:.0f}", f"{ours / theirs:.2f}x rate", ""))
        if "training_images_per_second" in results:
            train = results["training_images_per_second"]["fcnlab"]["median"]
            rows.append(("loader rate / training rate", f"{ours / train:.0f}x", "", "",
                         ">= 10x" + verdict(ours / train >= 10)))
    if "training_images_per_second" in results:
        peak_rss = results["training_images_per_second"]["fcnlab_peak_rss_mib"]
        rows.append(("training peak RSS, 500x375 / 375x500 (MiB)", f"{peak_rss:.0f}", "", "", ""))
    if "training_memory" in results:
        m = results["training_memory"]
        after = m["rss_mib_after_steps"]
        last = max(after, key=int)
        growth = after[last] - after.get("100", after[last])
        height, width = m["size"].split("x")
        rows.append((f"training RSS, {height}x{width} / {width}x{height} (MiB)",
                     f"after 100 steps {after.get('100', 0):.0f}, after {last} {after[last]:.0f}",
                     "", f"{growth:+.0f} MiB",
                     "no growth" + verdict(growth <= 0.02 * after[last])))
    if "fcn8s" in results:
        f = results["fcn8s"]
        r = {k: v["median"] for k, v in f["inference_ms"].items() if isinstance(v, dict)}
        what = f"FCN-8s inference {WIDTH}x{HEIGHT}, batch 1 (ms)"
        for key, name, limit in [("pytorch_eager", "PyTorch eager", 0.75),
                                 ("opencv_dnn", "OpenCV dnn", 1.0),
                                 ("onnx_runtime", "ONNX Runtime (fcnlab's export)", 0.9),
                                 ("fcnlab_direct", "fcnlab, direct 3x3 convolutions", None)]:
            if key not in r:
                continue
            ratio = r["fcnlab"] / r[key]
            target = "" if limit is None else f"<= {limit}x" + verdict(ratio <= limit)
            rows.append((what, f"{r['fcnlab']:.0f}", f"{name} {r[key]:.0f}", f"{ratio:.2f}x",
                         target))
            what = ""
        if "fcnlab_direct" in r and "onnx_runtime" in r:
            rows.append(("FCN-8s inference, direct 3x3 convolutions (ms)",
                         f"{r['fcnlab_direct']:.0f}",
                         f"ONNX Runtime (fcnlab's export) {r['onnx_runtime']:.0f}",
                         f"{r['fcnlab_direct'] / r['onnx_runtime']:.2f}x", ""))
        gflop8 = results.get("fcn8s_gflop_per_forward")
        if gflop8 and peak:
            def rate8(ms):
                achieved = gflop8 / (ms / 1000)
                return f"{achieved:.0f} ({100 * achieved / peak:.0f}% of peak)"
            peers = ", ".join(f"{name} {rate8(r[key])}" for key, name in
                              [("pytorch_eager", "PyTorch eager"), ("onnx_runtime", "ONNX Runtime")]
                              if key in r)
            rows.append((f"FCN-8s GFLOP/s at {gflop8:.1f} GFLOP per forward",
                         rate8(r["fcnlab"]), peers, "", ""))
        t = {k: v["median"] for k, v in f["training_images_per_second"].items()}
        rows.append(("FCN-8s training step, 500x375 / 375x500 (img/s)", f"{t['fcnlab']:.3f}",
                     f"PyTorch eager {t['pytorch_eager']:.3f}",
                     f"{t['pytorch_eager'] / t['fcnlab']:.2f}x time", ""))
        rows.append(("FCN-8s training peak RSS, 500x375 / 375x500 (MiB)",
                     f"{f['training_peak_rss_mib']:.0f}", "", "", ""))
    if "solver_update_ms" in results:
        for name, r in results["solver_update_ms"].items():
            rows.append((f"{name} update of FCN-Alexnet's 57M parameters (ms)",
                         f"{r['one_pass_ms']:.1f}", f"one ATen op per term {r['per_term_ms']:.1f}",
                         f"{r['ratio']:.2f}x time", ""))
    if "bf16" in results:
        rows += bf16_rows(results)
    if peak:
        rows.append(("SGEMM 2048x2048, best of the run (the BLAS peak)",
                     f"{peak:.0f} GFLOP/s", "", "", ""))
    lines = ["| benchmark | fcnlab | peer | ratio | target |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def bf16_rows(results):
    """bf16 against fcnlab's fp32 (>= 1.7x faster) and PyTorch eager bf16
    (<= 0.6x its time); training >= 1.4x fp32's images/s."""
    b = results["bf16"]
    peak = b["gemm_peak_gflops"]
    native = "" if b["native"] else " (this CPU has no native bf16)"
    rows = []
    for network, name, gflop in [
            ("fcn_alexnet", "FCN-Alexnet", results.get("gflop_per_forward")),
            ("fcn8s", "FCN-8s", results.get("fcn8s_gflop_per_forward"))]:
        r = {k: v["median"] for k, v in b["inference_ms"][network].items()}
        ours = r["fcnlab_bf16"]
        speedup = r["fcnlab_fp32"] / ours
        share = f", {gflop / (ours / 1000):.0f} GFLOP/s ({100 * gflop / (ours / 1000) / peak:.0f}% " \
            "of the bf16 peak)" if gflop else ""
        rows.append((f"{name} inference bf16 {WIDTH}x{HEIGHT} (ms){native}", f"{ours:.0f}{share}",
                     f"fcnlab fp32 {r['fcnlab_fp32']:.0f}", f"{speedup:.2f}x faster",
                     ">= 1.7x" + (" (met)" if speedup >= 1.7 else " (missed)")))
        ratio = ours / r["pytorch_eager_bf16"]
        rows.append(("", "", f"PyTorch eager bf16 {r['pytorch_eager_bf16']:.0f}", f"{ratio:.2f}x",
                     "<= 0.6x" + (" (met)" if ratio <= 0.6 else " (missed)")))
        if "fcnlab_fp32_direct" in r:  # bf16 has no Winograd: the same algorithm
            direct = r["fcnlab_fp32_direct"] / ours
            rows.append(("", "", f"fcnlab fp32, direct 3x3 convolutions "
                         f"{r['fcnlab_fp32_direct']:.0f}", f"{direct:.2f}x faster", ""))
    t = {k: v["median"] for k, v in b["training_images_per_second"].items()}
    speedup = t["fcnlab_bf16"] / t["fcnlab_fp32"]
    rows.append((f"FCN-Alexnet training bf16 (img/s){native}", f"{t['fcnlab_bf16']:.3f}",
                 f"fcnlab fp32 {t['fcnlab_fp32']:.3f}", f"{speedup:.2f}x rate",
                 ">= 1.4x" + (" (met)" if speedup >= 1.4 else " (missed)")))
    rows.append(("bf16 GEMM 2048x2048, best of the run", f"{peak:.0f} GFLOP/s", "", "", ""))
    return rows


def profile_table(profile):
    """Markdown rows of inference ms per layer, plain layers against
    forward(), for layers that take at least 1 ms either way."""
    plain, fast = profile["plain_layers"], profile["forward"]
    lines = ["| layer | plain LibTorch layers (ms) | forward() (ms) |", "|---|---|---|"]
    for layer in plain:
        if max(plain[layer], fast.get(layer, 0)) >= 1:
            lines.append(f"| {layer} | {plain[layer]:.1f} | {fast.get(layer, 0):.1f} |")
    lines.append(f"| all | {sum(plain.values()):.1f} | {sum(fast.values()):.1f} |")
    return "\n".join(lines)


def main():
    if any(os.environ.get(key) != value for key, value in ALLOCATOR.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **ALLOCATOR})
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=5, help="forward passes per round")
    parser.add_argument("--train-steps", type=int, default=6, help="training steps per round")
    parser.add_argument("--epoch-images", type=int, default=40)
    parser.add_argument("--epoch-rounds", type=int, default=1)
    parser.add_argument("--loader-images", type=int, default=200)
    parser.add_argument("--memory-steps", type=int, default=1000)
    parser.add_argument("--memory-size", type=height_by_width, default=(HEIGHT, WIDTH),
                        help="HEIGHTxWIDTH of the memory run (it alternates with WIDTHxHEIGHT)")
    parser.add_argument("--sections", nargs="+",
                        default=["peak", "inference", "profile", "training", "fcn8s", "bf16",
                                 "epoch", "data", "solver", "memory"])
    parser.add_argument("--quick", action="store_true",
                        help="one short round of each (a smoke test, not a measurement)")
    parser.add_argument("--json", default=os.path.join(HERE, "results.json"))
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.iterations, args.train_steps = 1, 2, 2
        args.epoch_images, args.loader_images, args.memory_steps = 6, 20, 100
    results = Bench(args).run()
    results["command"] = " ".join(["bench/run.py"] + sys.argv[1:])
    with open(args.json, "w") as out:  # the measurements, even if a table fails
        json.dump(results, out, indent=2)
    results["table"] = table(results)
    if "profile_ms" in results:
        results["profile_table"] = profile_table(results["profile_ms"])
    with open(args.json, "w") as out:
        json.dump(results, out, indent=2)
    m = results["machine"]
    print(f"{m['cpu']}, {m['cores']} cores, {m['threads']} threads, torch {m['torch']}, "
          f"{m['date']}")
    print(results["table"])
    if "profile_table" in results:
        print("\nInference at 500x375, layer by layer (LibTorch profiler):\n")
        print(results["profile_table"])
    print(f"(written to {args.json})")


if __name__ == "__main__":
    main()
