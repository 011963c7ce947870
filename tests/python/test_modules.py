"""fcnlab's networks as torch.nn.Modules: composition, hooks, moves,
state dicts, optimizers, tracing, autocast and DDP."""
import io
import os
import re
import socket
from copy import deepcopy

import pytest
import torch
import torch.nn.functional as F

import fcnlab

TINY_FCN = """name: "tiny-fcn"
input: "data"
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "msra" } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "score_fr" type: "Convolution" bottom: "pool1" top: "score_fr"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 3 kernel_size: 1 weight_filler { type: "msra" } } }
layer { name: "upscore" type: "Deconvolution" bottom: "score_fr" top: "upscore"
  param { lr_mult: 0 }
  convolution_param { num_output: 3 bias_term: false kernel_size: 4 stride: 2 } }
layer { name: "score" type: "Crop" bottom: "upscore" bottom: "data" top: "score" }
"""


def tiny(tmp_path):
    path = tmp_path / "tiny.prototxt"
    path.write_text(TINY_FCN)
    return fcnlab.FcnNet(str(path), num_classes=3)


def bgr(height=12, width=10, batch=1):
    return torch.rand(batch, 3, height, width) * 255


def test_every_way_of_making_a_network_gives_a_module(tmp_path):
    made = {
        "builtin": fcnlab.FcnNet("fcn32s", 2),
        "alexnet": fcnlab.FcnAlexNet(num_classes=2),
        "prototxt file": tiny(tmp_path),
        "prototxt text": fcnlab.FcnNet.from_prototxt(TINY_FCN),
    }
    fcnlab.save_model(made["prototxt file"], str(tmp_path / "m.fcnlab"), ["a", "b", "c"])
    made["model file"], names = fcnlab.load_model(str(tmp_path / "m.fcnlab"))
    assert names == ["a", "b", "c"]
    fcnlab.save_caffemodel(made["alexnet"], str(tmp_path / "a.caffemodel"))
    imported = fcnlab.FcnAlexNet(num_classes=2)
    report = fcnlab.load_caffemodel(imported, str(tmp_path / "a.caffemodel"))
    assert report["copied"]
    made["caffemodel import"] = imported
    for how, model in made.items():
        assert isinstance(model, torch.nn.Module), how
        assert all(isinstance(p, torch.nn.Parameter) for p in model.parameters()), how
    assert isinstance(made["alexnet"], fcnlab.FcnAlexNet)
    assert isinstance(made["model file"], fcnlab.FcnNet)
    # Children are the Caffe layers, parameters the C++ ones, by the same names.
    model = made["alexnet"]
    names = [name for name, _ in model.named_children()]
    assert names == [layer[0] for layer in model.layers]
    assert model.fc7.layer_type == "Convolution"
    cpp = dict(model._cpp.named_parameters())
    assert [n for n, _ in model.named_parameters()] == list(cpp)
    for name, parameter in model.named_parameters():
        assert parameter is cpp[name], name
    loaded = made["caffemodel import"]
    for name, parameter in loaded.named_parameters():
        assert torch.equal(parameter, dict(made["alexnet"].named_parameters())[name]), name


def test_sequential_with_softmax_equals_the_manual_composition(tmp_path):
    model = tiny(tmp_path).eval()
    image = bgr()
    with torch.no_grad():
        composed = torch.nn.Sequential(model, torch.nn.Softmax2d())(image)
        manual = F.softmax(model(image), dim=1)
    assert composed.shape == (1, 3, 12, 10)
    assert torch.allclose(composed, manual, atol=1e-7)
    assert torch.allclose(composed.sum(dim=1), torch.ones(1, 12, 10), atol=1e-6)


def test_a_forward_hook_on_fc7_sees_its_output_and_can_replace_a_layer():
    model = fcnlab.FcnAlexNet(num_classes=3).eval()
    image = bgr(120, 90)
    with torch.no_grad():
        plain = dict(model.trace(image))
        fast = model(image)
    seen = []
    handle = model.fc7.register_forward_hook(lambda module, inputs, output: seen.append(output))
    with torch.no_grad():
        hooked = model(image)
    handle.remove()
    assert len(seen) == 1
    assert seen[0].shape == plain["fc7"].shape
    assert seen[0].shape[:2] == (1, 4096)
    assert torch.allclose(seen[0], plain["fc7"], rtol=1e-4, atol=1e-4)
    assert torch.allclose(hooked, fast, rtol=1e-4, atol=1e-4)

    # A hook's return value replaces the output: score_fr's zeros pass the
    # unbiased upsampling and the crop as zeros.
    handle = model.score_fr.register_forward_hook(lambda m, i, output: torch.zeros_like(output))
    with torch.no_grad():
        assert torch.count_nonzero(model(image)) == 0
    handle.remove()

    # A replaced layer takes part; restoring it brings the C++ path back.
    original = model.score_fr
    silent = torch.nn.Conv2d(4096, 3, 1)
    torch.nn.init.zeros_(silent.weight)
    torch.nn.init.constant_(silent.bias, 0.0)
    model.score_fr = silent
    with torch.no_grad():
        assert torch.count_nonzero(model(image)) == 0
    # fcnlab's C++ functions run the network as built: they refuse it.
    with pytest.raises(ValueError, match="layer score_fr was replaced by a Python module"):
        fcnlab.segment(model, torch.zeros(90, 120, 3, dtype=torch.uint8))
    model.score_fr = original
    with torch.no_grad():
        assert torch.equal(model(image), fast)


def test_moving_to_double_and_back_reaches_the_cpp_network(tmp_path):
    model = fcnlab.FcnAlexNet(num_classes=3).eval()
    image = bgr(80, 70)
    with torch.no_grad():
        before = model(image)  # packs fc6/fc7 for the fast path
        model.to(torch.double)
        assert all(t.dtype == torch.double for _, t in model._cpp.named_parameters())
        doubled = model(image.double())
        assert doubled.dtype == torch.double
        model.to(torch.float)
        after = model(image)
    assert torch.allclose(doubled.float(), before, rtol=1e-4, atol=1e-3)
    assert torch.allclose(after, before, rtol=1e-5, atol=1e-5)


def test_load_state_dict_reaches_the_fast_paths():
    model = fcnlab.FcnAlexNet(num_classes=3).eval()
    image = bgr(80, 70)
    with torch.no_grad():
        before = model(image)  # fast path, with its packed weights
    state = model.state_dict()
    assert type(state).__name__ == "OrderedDict"
    # Scores are linear in score_fr (the upsampling has no bias): doubling
    # its weight and bias doubles them.
    state["score_fr.weight"] = state["score_fr.weight"] * 2
    state["score_fr.bias"] = state["score_fr.bias"] * 2
    model.load_state_dict(state)
    with torch.no_grad():
        assert torch.allclose(model(image), before * 2, rtol=1e-4, atol=1e-4)
    # nn.Module's own path (strict=False) copies into the same tensors.
    state["score_fr.weight"] = state["score_fr.weight"] * 0
    state["score_fr.bias"] = state["score_fr.bias"] * 0
    missing = model.load_state_dict({k: state[k] for k in ("score_fr.weight", "score_fr.bias")},
                                    strict=False)
    assert "conv1.weight" in missing.missing_keys
    with torch.no_grad():
        assert torch.count_nonzero(model(image)) == 0


def test_a_saved_state_dict_round_trips_through_torch_save(tmp_path):
    source, target = fcnlab.FcnNet("fcn32s", 2), fcnlab.FcnNet("fcn32s", 2)
    with torch.no_grad():
        for parameter in source.parameters():
            parameter.normal_(0, 0.01)
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    buffer.seek(0)
    target.load_state_dict(torch.load(buffer))
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        assert torch.equal(a, b), name
    image = bgr(40, 36)
    with torch.no_grad():
        assert torch.equal(source.eval()(image), target.eval()(image))


def test_deepcopy_copies_the_cpp_network(tmp_path):
    model = tiny(tmp_path).eval()
    copy = deepcopy(model)
    assert type(copy) is type(model) and copy._cpp is not model._cpp and not copy.training
    image = bgr()
    with torch.no_grad():
        assert torch.equal(copy(image), model(image))
        copy.conv1.weight.zero_()
        copy.conv1.bias.zero_()
        assert torch.count_nonzero(copy(image)) == 0
        assert torch.count_nonzero(model(image)) > 0


def test_train_eval_and_zero_grad_reach_the_cpp_network():
    model = fcnlab.FcnAlexNet(num_classes=2)
    assert model.training and model._cpp.training
    assert model.eval() is model
    assert not model._cpp.training and not model.fc7.training
    image = bgr(64, 64)
    with torch.no_grad():
        assert torch.equal(model(image), model(image))  # no dropout
    model.train()
    assert model._cpp.training
    fcnlab.segmentation_loss(model(image), torch.zeros(1, 64, 64, dtype=torch.long)).backward()
    assert model._cpp.parameters()[0].grad is not None
    model.zero_grad()
    grad = model._cpp.parameters()[0].grad
    assert grad is None or torch.count_nonzero(grad) == 0


def test_param_groups_carry_caffes_multipliers_to_torch_optim(tmp_path):
    model = tiny(tmp_path)
    groups = model.param_groups(base_lr=0.01, weight_decay=5e-4)
    assert [(g["lr_mult"], g["decay_mult"]) for g in groups] == [(1.0, 1.0), (2.0, 0.0)]
    for g in groups:
        assert g["lr"] == pytest.approx(0.01 * g["lr_mult"])
        assert g["weight_decay"] == pytest.approx(5e-4 * g["decay_mult"])
    params = dict(model.named_parameters())
    # Weights with the solver's rate and decay, biases at twice it without;
    # the fixed upsampling in none. The groups hold the module's own tensors.
    assert groups[0]["params"] == [params["conv1.weight"], params["score_fr.weight"]]
    assert all(a is b for a, b in zip(groups[1]["params"],
                                      [params["conv1.bias"], params["score_fr.bias"]]))
    grouped = [p for g in groups for p in g["params"]]
    assert sum(p.numel() for p in grouped) == model.num_learnable_parameters()
    assert all(p is not params["upscore.weight"] for p in grouped)

    # One torch.optim.SGD step is Caffe's: w -= lr * lr_mult * (g + wd * decay_mult * w).
    image, label = bgr(), torch.randint(0, 3, (1, 12, 10))
    fcnlab.segmentation_loss(model(image), label).backward()
    before = {n: p.detach().clone() for n, p in params.items()}
    grads = {n: p.grad.clone() for n, p in params.items() if p.grad is not None}
    torch.optim.SGD(groups, lr=0.01, momentum=0.9).step()
    for name, grad in grads.items():
        lr_mult, decay_mult = (2.0, 0.0) if name.endswith("bias") else (1.0, 1.0)
        expected = before[name] - 0.01 * lr_mult * (grad + 5e-4 * decay_mult * before[name])
        assert torch.allclose(params[name].detach(), expected, atol=1e-7), name
    assert torch.equal(params["upscore.weight"].detach(), before["upscore.weight"])


def test_torch_sgd_over_param_groups_steps_as_fcnlabs_solver():
    ours, theirs = fcnlab.FcnAlexNet(num_classes=3), fcnlab.FcnAlexNet(num_classes=3)
    theirs.load_state_dict(ours.state_dict())
    ours.eval()
    theirs.eval()
    solver = fcnlab.Solver(ours, solver="sgd", lr=1e-3, momentum=0.9, weight_decay=5e-4)
    optimizer = torch.optim.SGD(theirs.param_groups(1e-3, 5e-4), lr=1e-3, momentum=0.9)
    label = torch.randint(0, 3, (1, 64, 80))
    start = {n: p.detach().clone() for n, p in ours.named_parameters()}
    for iteration in range(3):
        image = bgr(64, 80)
        fcnlab.segmentation_loss(ours(image), label).backward()
        assert solver.step(iteration) == pytest.approx(1e-3)
        optimizer.zero_grad()
        fcnlab.segmentation_loss(theirs(image), label).backward()
        optimizer.step()
    changed = 0
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        scale = a.detach().abs().max().item()
        assert (a - b).abs().max().item() <= 1e-6 * max(scale, 1.0), name
        changed += int(not torch.equal(a, start[name]))
    assert changed == 16  # all but the fixed upsampling
    with pytest.raises(ValueError, match="Solver has no option learning_rate"):
        fcnlab.Solver(ours, learning_rate=0.1)


def test_jit_trace_runs_the_network(tmp_path):
    model = tiny(tmp_path).eval()
    image = bgr(16, 14)
    with torch.no_grad():
        traced = torch.jit.trace(model, image)
        assert torch.allclose(traced(image), model(image), atol=1e-5)
        other = bgr(16, 14)
        assert torch.allclose(traced(other), model(other), atol=1e-5)
    assert re.search(r"aten::(_convolution|conv2d)", str(traced.inlined_graph))


class TinyTwin(torch.nn.Module):
    """TINY_FCN written with torch.nn, sharing fcnlab's weights."""

    def __init__(self, ours):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.score_fr = torch.nn.Conv2d(4, 3, 1)
        self.upscore = torch.nn.ConvTranspose2d(3, 3, 4, stride=2, bias=False)
        self.load_state_dict(ours.state_dict())
        self.offset = ours.crop_offsets["score"]

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2, 2, ceil_mode=True)
        h = self.upscore(self.score_fr(h))
        top, left = self.offset
        return h[:, :, top:top + x.shape[2], left:left + x.shape[3]]


def test_autocast_runs_the_layers_as_torch_nn_does(tmp_path):
    model = tiny(tmp_path).eval()
    twin = TinyTwin(model).eval()
    image = bgr(16, 14)
    seen = []
    model.conv1.register_forward_hook(lambda m, i, output: seen.append(output.dtype))
    with torch.no_grad():
        full = model(image)
        assert torch.allclose(full, twin(image), rtol=1e-5, atol=1e-4)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = model(image)
            expected = twin(image)
    assert seen == [torch.float32, torch.bfloat16]
    # fcnlab's networks hand their scores on in float32 (for losses and
    # softmax) whatever precision their last layer ran in.
    assert half.dtype == torch.float32
    scale = expected.float().abs().max().item()
    assert (half - expected.float()).abs().max().item() <= 1e-2 * scale
    assert 0 < (half - full).abs().max().item() <= 0.05 * scale


def test_autocast_without_hooks_runs_the_fast_bf16_path(tmp_path):
    model = fcnlab.FcnAlexNet(num_classes=5).eval()
    with torch.no_grad():
        model.score_fr.weight.normal_(0, 0.01)
    image = bgr(64, 80)
    with torch.no_grad():
        full = model(image)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = model(image)
            # The C++ network's own forward, which the module hands to.
            assert torch.equal(fast, model._cpp.forward(image))
            model.conv1.register_forward_hook(lambda *args: None)
            layer_by_layer = model(image)
    assert fast.dtype == torch.float32
    scale = full.abs().max().item()
    assert 0 < (fast - full).abs().max().item() <= 0.1 * scale
    assert (fast - layer_by_layer).abs().max().item() <= 0.05 * scale


def _ddp_rank(rank, port, prototxt, out_dir):
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                            rank=rank, world_size=2)
    torch.manual_seed(rank)  # different start: DDP broadcasts rank 0's
    model = fcnlab.FcnNet(prototxt, num_classes=3)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(model.param_groups(0.1, 5e-4), lr=0.1, momentum=0.9)
    image = torch.rand(1, 3, 12, 10) * 255  # different data per rank
    label = torch.randint(0, 3, (1, 12, 10))
    fcnlab.segmentation_loss(ddp(image), label).backward()
    optimizer.step()
    torch.save({n: p.detach() for n, p in model.named_parameters()},
               os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


def test_distributed_data_parallel_keeps_both_ranks_equal(tmp_path):
    import torch.multiprocessing as mp
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch has no Gloo backend")
    path = tmp_path / "tiny.prototxt"
    path.write_text(TINY_FCN)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = mp.spawn(_ddp_rank, args=(port, str(path), str(tmp_path)), nprocs=2, join=False)
    for _ in range(120):
        if context.join(timeout=1):
            break
    else:
        for process in context.processes:
            process.kill()
        pytest.fail("the two DDP ranks did not finish within 120 s")
    first, second = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    torch.manual_seed(0)
    start = dict(fcnlab.FcnNet(str(path), num_classes=3).named_parameters())
    for name in first:
        assert torch.equal(first[name], second[name]), name
    assert not torch.equal(first["conv1.weight"], start["conv1.weight"])
