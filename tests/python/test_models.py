import pytest
import torch
import torch.nn.functional as F

import fcnlab
from fcn_alexnet_torch import FcnAlexNetTorch


def random_pair():
    """fcnlab's model and the plain PyTorch twin with the same weights."""
    ours = fcnlab.FcnAlexNet()
    state = ours.state_dict()
    state["score_fr.weight"] = torch.randn_like(state["score_fr.weight"]) * 0.01
    state["score_fr.bias"] = torch.randn_like(state["score_fr.bias"]) * 0.1
    ours.load_state_dict(state)
    twin = FcnAlexNetTorch()
    twin.load_state_dict(ours.state_dict())
    return ours, twin


def test_state_dict_names_match_the_caffe_layers():
    names = list(fcnlab.FcnAlexNet().state_dict().keys())
    assert names[:2] == ["conv1.weight", "conv1.bias"]
    assert names[-3:] == ["score_fr.weight", "score_fr.bias", "upscore.weight"]
    assert fcnlab.FcnAlexNet().num_learnable_parameters() == 56954261


def test_forward_equals_the_pytorch_twin_at_375x500():
    ours, twin = random_pair()
    ours.eval()
    twin.eval()
    image = torch.rand(1, 3, 375, 500) * 255
    with torch.no_grad():
        expected = twin(image)
        actual = ours(image)
    assert actual.shape == (1, 21, 375, 500)
    assert (actual - expected).abs().max().item() <= 1e-4


def test_winograd_changes_the_scores_by_rounding_only_and_can_be_switched_off():
    ours, _ = random_pair()
    ours.eval()
    image = torch.rand(1, 3, 97, 131) * 255
    available = fcnlab.winograd_convolutions()
    try:
        with torch.no_grad():
            fast = ours(image)
            assert fcnlab.set_winograd_convolutions(False) is False
            direct = ours(image)
    finally:
        fcnlab.set_winograd_convolutions(True)
    assert fcnlab.winograd_convolutions() == available
    assert (fast - direct).abs().max().item() <= 1e-5 * direct.abs().max().item()
    with open("/proc/cpuinfo") as cpuinfo:
        avx512 = " avx512f" in cpuinfo.read()
    if available and avx512:  # conv3 (256 -> 384, 3x3) ran by Winograd
        assert not torch.equal(fast, direct)


def test_gradients_equal_the_pytorch_twin():
    ours, twin = random_pair()
    ours.eval()  # no dropout: both must see the same network
    twin.eval()
    image = torch.rand(1, 3, 64, 80) * 255
    labels = torch.randint(0, 21, (1, 64, 80))
    labels[0, :4] = 255
    fcnlab.segmentation_loss(ours(image), labels).backward()
    F.cross_entropy(twin(image), labels, ignore_index=255).backward()
    ours_grads = dict(ours.named_parameters())
    for name, parameter in twin.named_parameters():
        if not parameter.requires_grad:
            assert ours_grads[name].grad is None
            continue
        got, want = ours_grads[name].grad, parameter.grad
        scale = want.abs().max().item()
        assert (got - want).abs().max().item() <= 1e-4 * max(scale, 1e-8), name


def test_save_and_load_model(tmp_path):
    ours, _ = random_pair()
    path = str(tmp_path / "model.pt")
    fcnlab.save_model(ours, path, fcnlab.voc_class_names())
    loaded, names = fcnlab.load_model(path)
    assert names[15] == "person"
    for name, tensor in ours.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_errors_arrive_as_python_exceptions(tmp_path):
    with pytest.raises(ValueError, match="num_classes >= 1, got 0"):
        fcnlab.FcnAlexNet(num_classes=0)
    with pytest.raises(ValueError, match="expects N x 3 x H x W BGR images"):
        fcnlab.FcnAlexNet()(torch.rand(3, 8, 8))
    with pytest.raises(RuntimeError, match="caffemodel: cannot open"):
        fcnlab.read_caffemodel(str(tmp_path / "missing.caffemodel"))


def test_summary_and_crop_offset():
    assert fcnlab.FcnAlexNet().crop_offset == 18
    text = fcnlab.summary(height=375, width=500)
    assert "256x17x21" in text and "crop score: offset 18" in text
