#!/usr/bin/env python3
"""bf16 against fp32 on a trained model: the share of validation pixels whose
class agrees, and mean IU in both precisions. Prints JSON.

    bench/bf16_accuracy.py MODEL.pt VOC_DIR   (VOC_DIR: prepare-voc's output)

Run with the fcnlab package importable (the test virtualenv).
"""
import argparse
import json
import os

import fcnlab
import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("voc")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    fcnlab.reuse_freed_memory()
    model, _ = fcnlab.load_model(args.model)
    model.eval()
    val = fcnlab.VOCSegmentation.prepared(args.voc, "val")
    images = os.path.join(args.voc, "val", "images")
    agree = total = 0
    for name in sorted(os.listdir(images)):
        image = fcnlab.read_image(os.path.join(images, name))
        fp32, _ = fcnlab.segment(model, image, amp="fp32")
        bf16, _ = fcnlab.segment(model, image, amp="bf16")
        agree += int((fp32 == bf16).sum())
        total += fp32.numel()
    result = {"native_bf16": fcnlab.cpu_has_native_bf16(), "pixels": total,
              "agreement": agree / total}
    for amp in ["fp32", "bf16"]:
        loss, confusion = fcnlab.evaluate(model, val, amp=amp)
        result[amp] = {"loss": loss, "mean_iu": confusion.mean_iu()}
    result["mean_iu_change"] = result["bf16"]["mean_iu"] - result["fp32"]["mean_iu"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
