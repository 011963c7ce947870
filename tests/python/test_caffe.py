import pytest
import torch

import fcnlab


def test_export_import_round_trip(tmp_path):
    model = fcnlab.FcnAlexNet(num_classes=3)
    path = str(tmp_path / "fcn.caffemodel")
    fcnlab.save_caffemodel(model, path)
    fcnlab.write_deploy_prototxt(model, str(tmp_path / "deploy.prototxt"), 64, 80)
    net = fcnlab.read_caffemodel(path)
    layers = {layer["name"]: layer for layer in net["layers"]}
    assert layers["fc6"]["blobs"][0].shape == (4096, 256, 6, 6)
    assert torch.equal(layers["conv1"]["blobs"][0], model.state_dict()["conv1.weight"])

    copy = fcnlab.FcnAlexNet(num_classes=3)
    report = fcnlab.load_caffemodel(copy, path)
    assert len(report["copied"]) == 9
    assert torch.equal(copy.state_dict()["fc7.weight"], model.state_dict()["fc7.weight"])


def test_export_caffe_writes_the_weights_and_their_deploy_file(tmp_path):
    model = fcnlab.FcnNet("fcn32s", num_classes=2)
    weights, prototxt = fcnlab.export_caffe(model, str(tmp_path / "fcn32s.caffemodel"), 96, 128)
    assert prototxt == str(tmp_path / "fcn32s.prototxt")
    text = (tmp_path / "fcn32s.prototxt").read_text()
    assert "dim: 96\n" in text and "dim: 128\n" in text
    layers = {layer["name"]: layer for layer in fcnlab.read_caffemodel(weights)["layers"]}
    assert torch.equal(layers["score_fr"]["blobs"][0], model.state_dict()["score_fr.weight"])
    with pytest.raises(ValueError, match="a Caffe export is a .caffemodel"):
        fcnlab.export_caffe(model, str(tmp_path / "fcn32s.onnx"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fcn32s.caffemodel", "fcn32s.prototxt"]


def test_surgery_of_an_inner_product_layer(tmp_path):
    weight = torch.randn(4096, 9216)
    bias = torch.randn(4096)
    path = str(tmp_path / "alexnet.caffemodel")
    fcnlab.write_caffemodel(path, "alexnet", [
        {"name": "fc6", "type": "InnerProduct", "blobs": [weight, bias]},
        {"name": "fc8", "type": "InnerProduct", "blobs": [torch.randn(10, 4096)]},
    ])
    model = fcnlab.FcnAlexNet()
    report = fcnlab.load_caffemodel(model, path)
    assert [name for name, _ in report["reshaped"]] == ["fc6"]
    assert [name for name, _ in report["dropped"]] == ["fc8"]
    assert torch.equal(model.state_dict()["fc6.weight"], weight.view(4096, 256, 6, 6))


CLASSIFIER = """name: "tiny"
layer { name: "data" type: "Input" top: "data"
  input_param { shape: { dim: 1 dim: 3 dim: 16 dim: 16 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 stride: 2 bias_term: false } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1"
  batch_norm_param { use_global_stats: true } }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1"
  scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "fc" type: "InnerProduct" bottom: "conv1" top: "fc"
  inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""


def test_a_zoo_style_classifier_runs_and_convolutionalizes(tmp_path):
    prototxt = tmp_path / "classifier.prototxt"
    prototxt.write_text(CLASSIFIER)
    net = fcnlab.FcnNet(str(prototxt))
    net.eval()
    params = dict(net.named_parameters())
    # 4 x 3 x 3 x 3 weights, BatchNorm's mean, variance and factor, Scale's
    # factor and bias, fc on 4 x 7 x 7 inputs.
    assert sum(p.numel() for p in params.values()) == (
        4 * 27 + (4 + 4 + 1) + (4 + 4) + (5 * 4 * 49 + 5))
    assert not params["bn1.mean"].requires_grad
    with torch.no_grad():
        for p in params.values():
            p.uniform_(0.5, 1.5)
    image = torch.rand(2, 3, 16, 16) * 255
    with torch.no_grad():
        scores = net(image)
        y = torch.nn.functional.conv2d(image, params["conv1.weight"], stride=2)
        factor = params["bn1.factor"]
        y = (y - (params["bn1.mean"] / factor).view(1, -1, 1, 1)) / (
            params["bn1.variance"] / factor + 1e-5).sqrt().view(1, -1, 1, 1)
        y = y * params["scale1.weight"].view(1, -1, 1, 1) + params["scale1.bias"].view(1, -1, 1, 1)
        y = torch.relu(y).flatten(1) @ params["fc.weight"].t() + params["fc.bias"]
    assert scores.shape == (2, 5, 1, 1)
    assert torch.allclose(scores.view(2, 5), y, rtol=1e-4, atol=1e-3)
    assert "16x16" in fcnlab.summary(network=str(prototxt))

    out = tmp_path / "fcn.prototxt"
    result = fcnlab.convolutionalize(str(prototxt), str(out), num_classes=3)
    assert "fc: InnerProduct on 4x7x7 -> Convolution 7x7" in result["notes"]
    fcn = fcnlab.FcnNet(str(out))
    with torch.no_grad():
        assert fcn(torch.rand(1, 3, 20, 30) * 255).shape == (1, 3, 20, 30)
