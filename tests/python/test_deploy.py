"""fcnlab.export_onnx from Python: the file ONNX Runtime runs equals the
module's own forward."""
import json
import os
import shutil
import subprocess

import pytest
import torch

import fcnlab

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
RUNNER = os.path.join(ROOT, "scripts", "ort_run.js")
RUNTIME = os.path.join(ROOT, "third_party", "node", "node_modules", "onnxruntime-node")


def onnx_runtime(model, x, tmp_path):
    if not shutil.which("node") or not os.path.isdir(RUNTIME):
        pytest.skip("ONNX Runtime is not installed (scripts/install-onnxruntime.sh)")
    x.numpy().astype("float32").tofile(tmp_path / "x.bin")
    report = subprocess.run(
        ["node", RUNNER, model, "1", "2", str(tmp_path / "x.bin"), ",".join(map(str, x.shape)),
         str(tmp_path / "y.bin")],
        check=True, capture_output=True, text=True)
    out = json.loads(report.stdout)
    dtype = torch.int64 if out["type"] == "int64" else torch.float32
    data = (tmp_path / "y.bin").read_bytes()
    return torch.frombuffer(bytearray(data), dtype=dtype).view(out["dims"])


TINY_FCN = """name: "tiny-fcn"
input: "data"
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "norm1" type: "LRN" bottom: "conv1" top: "norm1" lrn_param { local_size: 3 } }
layer { name: "pool1" type: "Pooling" bottom: "norm1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "score_fr" type: "Convolution" bottom: "pool1" top: "score_fr"
  convolution_param { num_output: %d kernel_size: 1 } }
layer { name: "upscore" type: "Deconvolution" bottom: "score_fr" top: "upscore"
  param { lr_mult: 0 }
  convolution_param { num_output: %d group: %d bias_term: false kernel_size: 3 stride: 2 } }
layer { name: "score" type: "Crop" bottom: "upscore" bottom: "data" top: "score" }
"""


def random_fcn(classes):
    model = fcnlab.FcnNet.from_prototxt(TINY_FCN % (classes, classes, classes))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.normal_(0, 0.1)
    return model.eval()


def test_export_onnx_runs_as_the_module_does(tmp_path):
    model = random_fcn(4)
    written = fcnlab.export_onnx(model, str(tmp_path / "fcn.onnx"))
    assert written["height"] == 0 and written["width"] == 0
    assert written["input"].startswith("data: N x 3 x H x W float, BGR")
    assert written["output"] == "score: class scores of 4 classes"
    x = torch.rand(1, 3, 70, 90) * 255
    with torch.no_grad():
        ours = model(x)
    theirs = onnx_runtime(written["path"], x, tmp_path)
    assert theirs.shape == ours.shape
    assert (theirs - ours).abs().max() <= 1e-4 * ours.abs().max()


def test_export_onnx_options_and_errors(tmp_path):
    model = random_fcn(3)
    written = fcnlab.export_onnx(
        model, str(tmp_path / "classes.onnx"), 64, 80, opset=11, output="classes")
    assert (written["height"], written["width"]) == (64, 80)
    x = torch.rand(1, 3, 64, 80) * 255
    with torch.no_grad():
        scores = model(x)
    classes = onnx_runtime(written["path"], x, tmp_path)
    assert classes.shape == (1, 64, 80)
    picked = scores.gather(1, classes.unsqueeze(1)).squeeze(1)
    assert (scores.max(1).values - picked).max() <= 1e-4 * scores.abs().max()
    with pytest.raises(ValueError, match="unknown ONNX output 'logits'"):
        fcnlab.export_onnx(model, str(tmp_path / "x.onnx"), output="logits")
    with pytest.raises(ValueError, match="needs a fixed input size"):
        fcnlab.export_onnx(model, str(tmp_path / "s.onnx"), segnet=True)
    # A layer replaced in Python is not what the file would hold.
    model.norm1 = torch.nn.Identity()
    with pytest.raises(ValueError, match="norm1"):
        fcnlab.export_onnx(model, str(tmp_path / "replaced.onnx"))
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == ["classes.onnx"]
