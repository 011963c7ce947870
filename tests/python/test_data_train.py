import math
import os
import subprocess
import sys

import pytest
import torch

import fcnlab


@pytest.fixture(scope="module")
def voc(tmp_path_factory):
    root = tmp_path_factory.mktemp("voc")
    fcnlab.synth_voc(str(root / "voc.tar"), images=6, seed=1, max_side=48)
    assert fcnlab.prepare_voc(str(root / "voc.tar"), str(root / "voc")) == (4, 2)
    return root


def test_dataset_works_with_torch_dataloader(voc):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    assert len(dataset) == 4
    loader = torch.utils.data.DataLoader(dataset, batch_size=1, shuffle=False)
    for index, (image, label) in enumerate(loader):
        assert image.dtype == torch.float32 and image.shape[1] == 3
        name = dataset.name(index)
        expected = fcnlab.read_label(str(voc / "voc" / "train" / "labels" / (name + ".png")))
        assert torch.equal(label[0], expected.long())
        bgr = fcnlab.read_image(str(voc / "voc" / "train" / "images" / (name + ".jpg")))
        assert torch.equal(image[0], bgr.permute(2, 0, 1).float())


def test_explore_counts_every_pixel(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "val")
    stats = fcnlab.explore(dataset, montage=str(tmp_path / "montage.png"), count=2)
    pixels = sum(label.numel() for _, label in (dataset[i] for i in range(len(dataset))))
    assert stats["entries"] == 2
    assert sum(stats["class_pixels"]) == pixels
    assert (tmp_path / "montage.png").stat().st_size > 0
    assert repr(dataset) == "VOCSegmentation(2 samples)"


def test_lmdb_dataset_matches_the_folders(voc):
    out = str(voc / "db")
    train, val, skipped = fcnlab.create_db(
        str(voc / "voc" / "train" / "images"), str(voc / "voc" / "train" / "labels"), out)
    assert (train, val, skipped) == (4, 0, [])
    folders = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    db = fcnlab.LmdbSegmentation(os.path.join(out, "train_db"))
    for i in range(4):
        assert torch.equal(db[i][1], folders[i][1])
        assert torch.equal(db[i][0], folders[i][0])
    with pytest.raises(IndexError):
        db[4]


def test_confusion_matrix_by_hand():
    matrix = fcnlab.ConfusionMatrix(3)
    matrix.update(torch.tensor([0, 0, 1, 1, 0]), torch.tensor([0, 1, 1, 255, 0]))
    assert matrix.counts.tolist() == [[2, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert matrix.pixel_accuracy() == pytest.approx(3 / 4)
    assert matrix.mean_iu() == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert math.isnan(matrix.class_iu()[2])


def test_trainer_calls_back_and_stops(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    val = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "val")
    model = fcnlab.FcnAlexNet()
    trainer = fcnlab.Trainer(model, dataset, val, epochs=3, lr=1e-3, lr_policy="fixed",
                             output_dir=str(tmp_path / "out"), threads=2)
    seen = []
    trainer.on_iteration(lambda info: seen.append(info["loss"]) or info["iteration"] < 5)
    snapshot = trainer.train()
    assert len(seen) == 5
    assert seen[0] == pytest.approx(math.log(21), abs=1e-3)
    assert snapshot.endswith("snapshot_iter_5.pt")
    loss, confusion = fcnlab.evaluate(model, val)
    assert loss > 0 and confusion.counts.sum().item() > 0
    classes, probabilities = fcnlab.segment(
        model, fcnlab.read_image(str(voc / "voc" / "val" / "images" / "synth_000006.jpg")))
    assert probabilities.shape[0] == 21 and classes.shape == probabilities.shape[1:]


def test_python_hooks_take_part_in_the_loop(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    val = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "val")
    trainer = fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, val, epochs=2, lr=1e-3,
                             lr_policy="fixed", output_dir=str(tmp_path / "out"), threads=2)
    events = []

    class Recorder(fcnlab.TrainerHook):
        def before_train(self, trainer):
            events.append(("before", trainer.iteration))

        def after_step(self, trainer, info):
            events.append(("step", info["iteration"]))

        def after_epoch(self, trainer, info):
            # Validation ran first; the info is the history's last entry.
            assert not math.isnan(info["val_mean_iu"])
            assert trainer.history[-1]["epoch"] == info["epoch"]
            events.append(("epoch", info["epoch"]))
            return info["epoch"] < 1  # stop after the first epoch

        def after_train(self, trainer, stopped):
            events.append(("after", stopped))

    class OnlySteps:  # any object with some of the methods will do
        def after_step(self, trainer, info):
            events.append(("plain step", info["iteration"]))

    trainer.add_hook(Recorder())
    trainer.add_hook(OnlySteps())
    snapshot = trainer.train()
    assert events == [("before", 0), ("step", 1), ("plain step", 1), ("step", 2),
                      ("plain step", 2), ("step", 3), ("plain step", 3), ("step", 4),
                      ("plain step", 4), ("epoch", 1), ("after", True)]
    assert snapshot.endswith("snapshot_iter_4.pt")


def test_a_python_hook_error_stops_training(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    trainer = fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, epochs=1, lr=1e-3,
                             output_dir=str(tmp_path / "out"), threads=2)

    class Broken(fcnlab.TrainerHook):
        def after_step(self, trainer, info):
            raise KeyError("no such metric")

    trainer.add_hook(Broken())
    with pytest.raises(KeyError, match="no such metric"):
        trainer.train()


SUMMED_LOSS_NET = """
name: "summed"
input: "data"
input_shape { dim: 1 dim: 3 dim: 16 dim: 16 }
layer { name: "score" type: "Convolution" bottom: "data" top: "score"
        convolution_param { num_output: 21 kernel_size: 1 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "score" bottom: "label"
        top: "loss" loss_param { ignore_label: 255 normalize: false } }
"""


def test_solver_defaults_follow_the_loss_as_in_the_cli(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    summed = fcnlab.FcnNet.from_prototxt(SUMMED_LOSS_NET)
    solver = fcnlab.Trainer(summed, dataset, epochs=3, output_dir=str(tmp_path)).solver
    # FCN's reference rate for a loss summed over pixels; 4 images, 3 epochs:
    # 12 updates, a step every 33%.
    assert solver == {"type": "sgd", "lr": 1e-10, "momentum": 0.99, "step_size": 4,
                      "max_iter": 12, "iter_size": 1, "lr_policy": "step",
                      "gamma": 0.1, "weight_decay": 5e-4}
    averaged = fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, solver="adagrad",
                              output_dir=str(tmp_path)).solver
    assert (averaged["lr"], averaged["momentum"]) == (1e-4, 0.0)
    given = fcnlab.Trainer(summed, dataset, lr=1e-3, momentum=0.5, step_size=2,
                           max_iter=5, output_dir=str(tmp_path)).solver
    assert (given["lr"], given["momentum"]) == (1e-3, 0.5)
    assert (given["step_size"], given["max_iter"]) == (2, 5)


def test_every_trainer_option_is_a_keyword(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    val = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "val")
    out = tmp_path / "out"
    trainer = fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, val, epochs=3, lr=1e-3,
                             lr_policy="multistep", step_values=[2, 6], fused=False,
                             snapshot_every=2, val_every=2, log_every=3,
                             progress_seconds=5, distributed_timeout_seconds=60,
                             overlap_communication=False, output_dir=str(out), threads=2)
    trainer.train()
    # 4 images a epoch: 12 updates; logged at 3, 6, 9, 12.
    iterations = (out / "iterations.csv").read_text().splitlines()[1:]
    assert [int(line.split(",")[0]) for line in iterations] == [3, 6, 9, 12]
    rates = [float(line.split(",")[4]) for line in iterations]
    assert rates == pytest.approx([1e-4, 1e-4, 1e-5, 1e-5])  # x0.1 from updates 2 and 6
    # Validated at epochs 2 and 3 (the last), snapshots after 2 and 3.
    validated = [not math.isnan(e["val_mean_iu"]) for e in trainer.history]
    assert validated == [False, True, True]
    snapshots = sorted(p.name for p in out.glob("snapshot_iter_*.pt"))
    assert snapshots == ["snapshot_iter_12.pt", "snapshot_iter_8.pt"]


def test_cli_model_loads_in_python_and_back(voc, tmp_path):
    out = str(tmp_path / "out")
    subprocess.run([sys.executable, "-m", "fcnlab", "train", str(voc / "voc"), "--epochs", "1",
                    "--lr", "1e-3", "--output-dir", out], check=True, capture_output=True)
    model, names = fcnlab.load_model(os.path.join(out, "model.pt"))
    assert names[0] == "background"
    fcnlab.save_model(model, str(tmp_path / "again.pt"), names)
    image = str(voc / "voc" / "val" / "images" / "synth_000006.jpg")
    result = subprocess.run(
        [sys.executable, "-m", "fcnlab", "segment", str(tmp_path / "again.pt"), image,
         "--out", str(tmp_path / "seg")], check=True, capture_output=True, text=True)
    assert "synth_000006_mask.png" in result.stdout


def test_pixel_limit_refuses_large_images(voc):
    image = sorted((voc / "voc" / "train" / "images").glob("*.jpg"))[0]
    height, width, _ = fcnlab.read_image(str(image)).shape
    default = fcnlab.max_image_pixels()
    try:
        fcnlab.set_max_image_pixels(height * width - 1)
        with pytest.raises(RuntimeError, match=f"is {width}x{height} pixels, more than the limit"):
            fcnlab.read_image(str(image))
        fcnlab.set_max_image_pixels(height * width)
        assert fcnlab.read_image(str(image)).shape == (height, width, 3)
    finally:
        fcnlab.set_max_image_pixels(default)
    with pytest.raises(ValueError):
        fcnlab.set_max_image_pixels(0)


def test_mixed_precision_matches_torch_autocast(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    val = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "val")
    model = fcnlab.FcnAlexNet()
    trainer = fcnlab.Trainer(model, dataset, val, epochs=1, lr=1e-3, lr_policy="fixed",
                             output_dir=str(tmp_path / "out"), threads=2, amp="bf16")
    trainer.train()
    assert all(p.dtype == torch.float32 for p in model.parameters())
    image = fcnlab.read_image(str(voc / "voc" / "val" / "images" / "synth_000006.jpg"))
    classes, probabilities = fcnlab.segment(model, image, amp="bf16")
    assert probabilities.dtype == torch.float32
    # torch.autocast sets the same thread-local state that amp= sets.
    with torch.autocast("cpu", dtype=torch.bfloat16):
        same_classes, same_probabilities = fcnlab.segment(model, image)
    assert torch.equal(probabilities, same_probabilities)
    assert torch.equal(classes, same_classes)
    loss, _ = fcnlab.evaluate(model, val, amp="bf16")
    reference, _ = fcnlab.evaluate(model, val)
    assert loss == pytest.approx(reference, rel=0.05) and loss != reference


def test_unavailable_device_or_precision_is_a_value_error(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, amp="fp16", output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="precision \"half\""):
        fcnlab.evaluate(fcnlab.FcnAlexNet(), dataset, amp="half")
    if not fcnlab.cuda_available():
        with pytest.raises(RuntimeError, match="was asked for"):
            fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, device="cuda",
                           output_dir=str(tmp_path))


def test_solvers_as_keywords(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    model = fcnlab.FcnAlexNet()
    trainer = fcnlab.Trainer(model, dataset, epochs=1, lr=1e-3, lr_policy="fixed",
                             solver="rmsprop", rms_decay=0.9, output_dir=str(tmp_path / "out"),
                             threads=2)
    seen = []
    trainer.on_iteration(lambda info: seen.append(info["loss"]) or True)
    trainer.train()
    assert len(seen) == 4 and all(math.isfinite(loss) for loss in seen)
    with pytest.raises(ValueError, match="got lbfgs"):
        fcnlab.Trainer(model, dataset, solver="lbfgs", output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="adagrad takes no momentum"):
        fcnlab.Trainer(model, dataset, solver="adagrad", momentum=0.9,
                       output_dir=str(tmp_path))


def test_augmentation_keeps_alignment_and_trains(voc, tmp_path):
    # A label read from the image's own pixels: 12 x class in every channel.
    label = torch.randint(1, 21, (6, 8)).repeat_interleave(16, 0).repeat_interleave(16, 1)
    image = (label.float() * 12).unsqueeze(0).repeat(3, 1, 1)
    options = dict(flip=True, quarter_turns=True, crop=(80, 100))
    for seed in range(5):
        out_image, out_label = fcnlab.augment(image, label, seed, **options)
        kept = out_label != 255
        assert torch.equal((out_image[0][kept] / 12).round().long(), out_label[kept])
        again = fcnlab.augment(image, label, seed, **options)
        assert torch.equal(again[0], out_image)
    with pytest.raises(ValueError, match="unknown augmentation 'blur'"):
        fcnlab.augment(image, label, 0, blur=1)
    with pytest.raises(ValueError, match="rotation must be in"):
        fcnlab.augment(image, label, 0, rotation=400)
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    trainer = fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, epochs=1, lr=1e-3,
                             output_dir=str(tmp_path / "out"), threads=2,
                             augment=dict(flip=True, scale=(0.8, 1.2)))
    assert trainer.train().endswith("snapshot_iter_4.pt")
    fcnlab.explore(dataset, montage=str(tmp_path / "m.png"), count=2,
                   augment=dict(rotation=10), seed=3)
    assert (tmp_path / "m.png").stat().st_size > 0


def test_prepare_sbd_from_a_synthetic_archive(tmp_path):
    fcnlab.synth_voc(str(tmp_path / "benchmark.tar"), images=4, max_side=40, sbd=True)
    assert fcnlab.prepare_sbd(str(tmp_path / "benchmark.tar"), str(tmp_path / "sbd")) == (3, 1)
    labels = sorted((tmp_path / "sbd" / "train" / "labels").glob("*.png"))
    assert len(labels) == 3 and fcnlab.read_label(str(labels[0])).max() <= 20
    (tmp_path / "bad.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 200)
    with pytest.raises(RuntimeError, match="bad.mat"):
        fcnlab.read_sbd_label(str(tmp_path / "bad.mat"))


def test_pretrain_then_surgery(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    classifier, weights = fcnlab.pretrain(dataset, epochs=1, iter_size=4, lr=1e-3, min_pixels=4,
                                          output_dir=str(tmp_path / "pre"), threads=2)
    assert weights == str(tmp_path / "pre" / "alexnet.caffemodel")
    layers = {layer["name"]: layer for layer in fcnlab.read_caffemodel(weights)["layers"]}
    assert layers["fc6"]["type"] == "InnerProduct"
    assert list(layers["fc6"]["blobs"][0].shape) == [4096, 9216]
    # fcnlab runs fc6-fc8 as convolutions; the caffemodel stores them as InnerProduct.
    assert isinstance(classifier, torch.nn.Module)
    assert classifier.fc6.weight.shape == (4096, 256, 6, 6)
    scores = classifier(torch.rand(1, 3, 227, 227) * 255)
    assert scores.shape == (1, 21, 1, 1)

    model = fcnlab.FcnAlexNet()
    report = fcnlab.load_caffemodel(model, weights)
    assert [entry[0] for entry in report["reshaped"]] == ["fc6", "fc7"]
    fc6 = dict(classifier.named_parameters())["fc6.weight"]
    assert torch.equal(dict(model.named_parameters())["fc6.weight"], fc6)


def test_batched_update_matches_one_image_at_a_time(voc, tmp_path):
    dataset = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    results = []
    for batched in (True, False):
        torch.manual_seed(0)
        model = fcnlab.FcnAlexNet(dropout=0.0)
        trainer = fcnlab.Trainer(model, dataset, epochs=1, lr=1e-3, iter_size=4,
                                 lr_policy="fixed", batch_equal_sizes=batched,
                                 output_dir=str(tmp_path / str(batched)), threads=2)
        trainer.train()
        results.append([p.detach().clone() for p in model.parameters()])
    for batched, single in zip(*results):
        assert torch.allclose(batched, single, atol=1e-5, rtol=0)


def test_trainer_from_a_caffe_solver_file(voc, tmp_path):
    solver = tmp_path / "solver.prototxt"
    solver.write_text(
        'net: "train_val.prototxt"\nbase_lr: 0.001\nlr_policy: "step"\n'
        "gamma: 0.5\nstepsize: 1\nmomentum: 0.95\nweight_decay: 0.0001\n"
        "max_iter: 3\ndisplay: 1\nrandom_seed: 5\nsolver_mode: GPU\n")
    train = fcnlab.VOCSegmentation.prepared(str(voc / "voc"), "train")
    model = fcnlab.FcnAlexNet()
    trainer = fcnlab.Trainer(model, train, solver_file=str(solver),
                             output_dir=str(tmp_path / "out"), threads=2)
    assert trainer.max_iter == 3
    assert trainer.solver["momentum"] == pytest.approx(0.95)
    assert trainer.solver["lr_policy"] == "step"
    assert trainer.solver["gamma"] == pytest.approx(0.5)
    trainer.train()
    assert trainer.iteration == 3
    rates = [float(line.split(",")[-1]) for line in
             (tmp_path / "out" / "iterations.csv").read_text().splitlines()[1:]]
    assert rates == pytest.approx([1e-3, 5e-4, 2.5e-4], rel=1e-6)
    written = (tmp_path / "out" / "solver.prototxt").read_text()
    assert 'net: "train.prototxt"' in written and "max_iter: 3" in written
