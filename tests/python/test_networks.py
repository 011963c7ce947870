import pytest
import torch
import torch.nn.functional as F

import fcnlab
from fcn8s_torch import Fcn8sTorch


def random_fcn8s_pair(num_classes=21):
    """fcnlab's FCN-8s and the plain PyTorch twin with the same weights: the
    He-normal trunk, random biases and scorers scaled for scores of about 1
    (so that 1e-4 is a tight absolute tolerance)."""
    ours = fcnlab.FcnNet("fcn8s", num_classes=num_classes)
    state = ours.state_dict()
    for name, tensor in state.items():
        if name.endswith("bias"):
            state[name] = torch.randn_like(tensor) * 0.05
        elif name.startswith("score"):
            state[name] = torch.randn_like(tensor) * 1e-4
    ours.load_state_dict(state)
    twin = Fcn8sTorch(num_classes)
    twin.load_state_dict(ours.state_dict())
    return ours, twin


def test_fcn8s_scores_equal_the_pytorch_twin_at_375x500():
    ours, twin = random_fcn8s_pair()
    ours.eval()
    twin.eval()
    image = torch.rand(1, 3, 375, 500) * 255
    with torch.no_grad():
        expected = twin(image)
        actual = ours(image)
    assert actual.shape == (1, 21, 375, 500)
    assert 0.1 < expected.abs().max().item() < 100
    assert (actual - expected).abs().max().item() <= 1e-4


def test_fcn8s_gradients_equal_the_pytorch_twin():
    ours, twin = random_fcn8s_pair(num_classes=4)
    ours.eval()  # no dropout: both must see the same network
    twin.eval()
    image = torch.rand(1, 3, 45, 61) * 255
    labels = torch.randint(0, 4, (1, 45, 61))
    labels[0, :3] = 255
    # FCN's VGG nets sum the loss over pixels (normalize: false).
    fcnlab.segmentation_loss(ours(image), labels, normalize=False).backward()
    F.cross_entropy(twin(image), labels, ignore_index=255, reduction="sum").backward()
    ours_grads = dict(ours.named_parameters())
    for name, parameter in twin.named_parameters():
        if not parameter.requires_grad:
            assert ours_grads[name].grad is None, name
            continue
        got, want = ours_grads[name].grad, parameter.grad
        scale = want.abs().max().item()
        assert (got - want).abs().max().item() <= 1e-4 * max(scale, 1e-8), name


def test_networks_from_names_and_prototxts(tmp_path):
    assert fcnlab.builtin_networks() == [
        "fcn_alexnet", "fcn32s", "fcn16s", "fcn8s", "fcn8s_atonce"]
    fcn16s = fcnlab.FcnNet("fcn16s", num_classes=3)
    assert fcn16s.num_classes == 3
    assert fcn16s.crop_offsets == {"score_pool4c": (5, 5), "score": (27, 27)}
    path = tmp_path / "fcn16s.prototxt"
    path.write_text(fcnlab.network_prototxt("fcn16s", num_classes=3))
    again = fcnlab.FcnNet(str(path))
    assert list(again.state_dict()) == list(fcn16s.state_dict())
    assert fcnlab.FcnNet.from_prototxt(fcn16s.prototxt).name == "fcn16s"
    assert "crop score: offset 27" in fcnlab.summary(64, 64, 3, "fcn16s")


def test_a_custom_network_saves_and_loads(tmp_path):
    ours, _ = random_fcn8s_pair(num_classes=2)
    path = str(tmp_path / "fcn8s.pt")
    fcnlab.save_model(ours, path, ["background", "thing"])
    loaded, names = fcnlab.load_model(path)
    assert type(loaded) is fcnlab.FcnNet
    assert names == ["background", "thing"]
    image = torch.rand(1, 3, 20, 30) * 255
    ours.eval()
    with torch.no_grad():
        assert torch.equal(loaded(image), ours(image))


def test_bad_prototxt_is_a_python_error(tmp_path):
    path = tmp_path / "bad.prototxt"
    path.write_text('layer { name: "x" type: "Swish" bottom: "data" top: "x" }\n')
    with pytest.raises(RuntimeError, match=r"bad.prototxt:1: layer x: unsupported layer type 'Swish'"):
        fcnlab.FcnNet(str(path))


def test_fcn_alexnet_by_name_saves_as_fcn_alexnet(tmp_path):
    built = fcnlab.FcnNet("fcn_alexnet", num_classes=4)
    path = str(tmp_path / "alexnet.pt")
    fcnlab.save_model(built, path)
    loaded, _ = fcnlab.load_model(path)
    # The same class as fcnlab.FcnAlexNet, as the CLI's --network fcn_alexnet.
    assert type(loaded) is fcnlab.FcnAlexNet
    assert loaded.crop_offset == 18
    assert list(loaded.state_dict()) == list(fcnlab.FcnAlexNet(num_classes=4).state_dict())


def test_load_state_dict_checks_before_copying():
    source, target = fcnlab.FcnNet("fcn32s", 2), fcnlab.FcnNet("fcn32s", 2)
    state = {name: torch.randn_like(t) for name, t in source.state_dict().items()}
    before = target.state_dict()["score_fr.weight"].clone()
    bad = dict(state, **{"score_fr.bias": torch.zeros(3)})
    with pytest.raises(ValueError, match=r"score_fr.bias has shape \[3\], expected \[2\]"):
        target.load_state_dict(bad)
    assert torch.equal(target.state_dict()["score_fr.weight"], before)
    target.load_state_dict(state)
    for name, tensor in target.state_dict().items():
        assert torch.equal(tensor, state[name]), name


TWO_LOSSES = """
layer { name: "data" type: "Python" top: "data" top: "sem" top: "geo"
  python_param { module: "siftflow_layers" layer: "SIFTFlowSegDataLayer"
    param_str: "{'seed': 1337, 'mean': (104.0, 116.0, 122.0)}" } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 pad: 1 kernel_size: 3 } }
layer { name: "score_sem" type: "Convolution" bottom: "conv1" top: "score_sem"
  convolution_param { num_output: 5 kernel_size: 1 } }
layer { name: "loss_sem" type: "SoftmaxWithLoss" bottom: "score_sem" bottom: "sem" top: "l1" }
layer { name: "score_geo" type: "Convolution" bottom: "conv1" top: "score_geo"
  convolution_param { num_output: 3 kernel_size: 1 } }
layer { name: "loss_geo" type: "SoftmaxWithLoss" bottom: "score_geo" bottom: "geo" top: "l2" }
"""


def test_loss_layer_picks_one_head_of_a_python_data_layer_net(tmp_path):
    path = tmp_path / "siftflow.prototxt"
    path.write_text(TWO_LOSSES)
    with pytest.raises(RuntimeError, match=r"2 loss layers \(loss_sem, loss_geo\)"):
        fcnlab.FcnNet(str(path))
    geo = fcnlab.FcnNet(str(path), loss_layer="loss_geo")
    assert geo.num_classes == 3
    assert geo.mean == pytest.approx([104.0, 116.0, 122.0])
    assert sorted(geo.state_dict()) == [
        "conv1.bias", "conv1.weight", "score_geo.bias", "score_geo.weight"]
    assert geo(torch.rand(1, 3, 9, 11) * 255).shape == (1, 3, 9, 11)
    text = fcnlab.summary(20, 20, network=str(path), loss_layer="loss_sem")
    assert "note: loss layer loss_sem chosen of loss_sem, loss_geo; pruned (they do not feed it): score_geo" in text
    assert "note: data layer data: Python siftflow_layers.SIFTFlowSegDataLayer, mean (104.0, 116.0, 122.0); set aside (data comes from the command line): seed=1337" in text
