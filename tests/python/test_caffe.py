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
