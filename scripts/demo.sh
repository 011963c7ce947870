#!/usr/bin/env bash
# The main job end to end on the built-in synthetic VOC data: prepare ->
# dataset -> train -> evaluate -> segment, leaving pictures in demo/ (or $1).
# As root on a fresh Debian 12 machine it installs the dependencies first;
# a second run skips what is already installed and built.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
  scripts/install-deps.sh cli # what the library and CLI need, no test tools
fi
# Only the library and the CLI: tests and benchmarks are scripts/test.sh's.
FCNLAB_TARGETS=fcnlab_cli scripts/build.sh -DFCNLAB_BUILD_TESTS=OFF \
  -DFCNLAB_BUILD_BENCH=OFF

out=${1:-demo}
fcnlab=build/fcnlab
# Small images keep a CPU-only run within minutes; the sizes keep VOC's
# aspect ratios (500x375, 375x500, 500x333, ...).
images=${FCNLAB_DEMO_IMAGES:-320}
side=${FCNLAB_DEMO_SIDE:-160}
epochs=${FCNLAB_DEMO_EPOCHS:-6}
# bf16 where the CPU has it natively (same mean IU, half the time), else fp32.
amp=${FCNLAB_DEMO_AMP:-auto}
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)

$fcnlab synth-voc "$out/VOCtrainval_synthetic.tar" --images "$images" \
  --max-side "$side" --seed 0
$fcnlab prepare-voc "$out/VOCtrainval_synthetic.tar" "$out/voc"
$fcnlab create-db --train-images "$out/voc/train/images" \
  --train-labels "$out/voc/train/labels" --val-images "$out/voc/val/images" \
  --val-labels "$out/voc/val/labels" --out "$out/db"
$fcnlab explore-db "$out/db" --montage "$out/dataset_montage.png" --count 6 |
  head -n 12
# Nesterov's momentum, no dropout and a rate falling linearly to 0: the
# model learns in this budget what DIGITS' recipe does not (README: The demo).
$fcnlab train "$out/db" --epochs "$epochs" --solver nesterov --lr 1e-3 \
  --lr-policy poly --power 1 --dropout 0 --amp "$amp" --output-dir "$out/train"
$fcnlab eval "$out/train/model.pt" "$out/db" --amp "$amp" \
  --confusion "$out/confusion.png"
$fcnlab segment "$out/train/model.pt" $(ls "$out"/voc/val/images/*.jpg | head -n 4) \
  --amp "$amp" --out "$out/segmented"

echo
echo "demo finished in $(( $(date +%s) - start )) s (data, training, evaluation, segmentation)"
echo "pictures:"
echo "  $out/dataset_montage.png      images beside their labels"
echo "  $out/train/curves.png         loss, accuracy, mean IU, learning rate; IU per class"
echo "  $out/confusion.png            confusion matrix on the validation split"
echo "  $out/segmented/*_overlay.png  segmentations with legends"
echo "metrics: $out/train/metrics.jsonl, $out/train/epochs.csv"
echo "dashboard (the run's charts, its dataset, network and Test One):"
echo "  $fcnlab serve $out     then open http://127.0.0.1:8080/run/$(basename "$out")~train"
