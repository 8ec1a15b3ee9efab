"""The recorder on the awkward cases real models bring: in-place ops, concatenations, tuple
outputs, shared modules, frozen weights, no_grad passes, autocast, NaN, CUDA."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

import inspector


def one_step(model, x, y, rec, lr=0.01):
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    out = model(x)
    out = out[0] if isinstance(out, tuple) else out
    loss = nn.functional.cross_entropy(out, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.step(loss=loss)
    return loss


def test_torchvision_resnet18_inplace_relu(tmp_path):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    with inspector.watch(model, run="r18", root=tmp_path, every=1) as rec:
        for _ in range(2):
            one_step(model, torch.randn(2, 3, 32, 32), torch.tensor([1, 2]), rec)
    reader = inspector.open_run(tmp_path / "r18")
    grads = reader.at_step("grad_norm", 1, role="module")
    assert "layer1.0.relu" in grads and all(math.isfinite(v) and v >= 0 for v in grads.values())
    # the block's ReLU is called twice per forward: recorded as one layer, 2 calls
    assert reader.at_step("calls", 0)["layer1.0.relu"] == 2
    assert reader.at_step("bn_batch_size", 0)["bn1"] == 2
    assert "fc.weight" in reader.at_step("update_ratio", 1)


def test_densenet_concatenations(tmp_path):
    torch.manual_seed(0)
    model = torchvision.models.DenseNet(
        growth_rate=8, block_config=(2, 2), num_init_features=16, bn_size=2, num_classes=4
    )
    with inspector.watch(model, run="dense", root=tmp_path, every=1) as rec:
        one_step(model, torch.randn(2, 3, 32, 32), torch.tensor([0, 3]), rec)
    reader = inspector.open_run(tmp_path / "dense")
    acts = reader.at_step("act_mean", 0)
    assert "features.denseblock1.denselayer1.conv1" in acts
    assert all(math.isfinite(v) for v in reader.at_step("grad_norm", 0).values())


class SeqClassifier(nn.Module):
    def __init__(self, cell: type[nn.RNNBase]) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.rnn = cell(8, 16, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, tokens):
        out, _ = self.rnn(self.emb(tokens))
        return self.head(out[:, -1])


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU, nn.RNN])
def test_recurrent_tuple_outputs(tmp_path, cell):
    model = SeqClassifier(cell)
    with inspector.watch(model, run="seq", root=tmp_path, every=1) as rec:
        one_step(model, torch.randint(0, 10, (4, 12)), torch.tensor([0, 1, 2, 0]), rec)
    reader = inspector.open_run(tmp_path / "seq")
    assert reader.at_step("act_numel", 0)["rnn"] == 4 * 12 * 16  # first tensor of the tuple
    assert reader.at_step("grad_norm", 0)["rnn"] > 0
    assert reader.at_step("g_norm", 0)["rnn.weight_hh_l0"] > 0


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(4, 6)
        self.block = nn.Linear(6, 6)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        h = self.inp(x)
        for _ in range(3):
            h = torch.tanh(self.block(h))
        return self.head(h)


def test_shared_module_called_several_times(tmp_path):
    model = Shared()
    x = torch.randn(5, 4)
    with inspector.watch(model, run="shared", root=tmp_path, every=1, exact=True) as rec:
        one_step(model, x, torch.tensor([0, 1, 0, 1, 1]), rec)
    reader = inspector.open_run(tmp_path / "shared")
    assert reader.at_step("calls", 0)["block"] == 3
    assert reader.at_step("act_numel", 0)["block"] == 3 * 5 * 6  # aggregated over calls


def test_module_registered_twice_is_flagged_shared(tmp_path):
    block = nn.Linear(4, 4)
    model = nn.Sequential(block, nn.ReLU(), block, nn.Linear(4, 2))
    with inspector.watch(model, run="alias", root=tmp_path, every=1) as rec:
        one_step(model, torch.randn(3, 4), torch.tensor([0, 1, 1]), rec)
    layers = inspector.open_run(tmp_path / "alias").layers_by_name()
    assert layers["0"].info["shared"] and layers["0"].info["aliases"] == ["0", "2"]
    assert "2" not in layers  # one layer per module instance


def test_frozen_parameters_have_no_gradient_stats(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    for p in model[0].parameters():
        p.requires_grad_(False)
    with inspector.watch(model, run="frozen", root=tmp_path, every=1) as rec:
        one_step(model, torch.randn(3, 4), torch.tensor([0, 1, 1]), rec)
    reader = inspector.open_run(tmp_path / "frozen")
    g = reader.at_step("g_norm", 0)
    assert "2.weight" in g and "0.weight" not in g
    assert reader.layers_by_name()["0.weight"].info["trainable"] is False
    assert reader.at_step("w_norm", 0)["0.weight"] > 0


def test_no_grad_evaluation_pass_records_forward_only(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 2))
    with inspector.watch(model, run="nograd", root=tmp_path, every=1) as rec:
        with torch.no_grad():
            model(torch.randn(6, 4))
        rec.step()
    reader = inspector.open_run(tmp_path / "nograd")
    assert reader.at_step("act_numel", 0)["1"] == 48
    assert reader.at_step("grad_norm", 0) == {}


def test_paused_passes_are_not_recorded(tmp_path):
    model = nn.Sequential(nn.Linear(4, 2))
    with inspector.watch(model, run="paused", root=tmp_path, every=1) as rec:
        with rec.paused():
            model(torch.randn(6, 4))
        model(torch.randn(3, 4))
        rec.step()
    assert inspector.open_run(tmp_path / "paused").at_step("act_numel", 0)["0"] == 6


def test_bf16_autocast_stats_in_float32(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4))
    x = torch.randn(8, 16)
    with inspector.watch(model, run="amp", root=tmp_path, every=1, exact=True) as rec:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x)
        loss = nn.functional.cross_entropy(out.float(), torch.zeros(8, dtype=torch.long))
        loss.backward()
        rec.step(loss=loss)
    reader = inspector.open_run(tmp_path / "amp")
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        ref = model[0](x).float().numpy()
    assert reader.at_step("act_mean", 0)["0"] == pytest.approx(ref.mean(), rel=1e-3, abs=1e-4)
    assert math.isfinite(reader.at_step("grad_norm", 0)["1"])


def test_nan_and_inf_are_counted_not_fatal(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(5, 4)
    x[0, 0] = float("nan")
    x[1, 1] = float("inf")
    with inspector.watch(model, run="nan", root=tmp_path, every=1, exact=True) as rec:
        loss = model(x).sum()
        loss.backward()
        rec.step(loss=loss)
    reader = inspector.open_run(tmp_path / "nan")
    assert reader.status == "finished"
    assert reader.at_step("act_nan", 0)["0"] > 0
    assert np.isnan(reader.last_scalar("loss") or np.nan)


def test_unrecorded_steps_write_no_stats(tmp_path):
    model = nn.Sequential(nn.Linear(4, 2))
    with inspector.watch(model, run="every3", root=tmp_path, every=3) as rec:
        for _ in range(7):
            one_step(model, torch.randn(3, 4), torch.tensor([0, 1, 1]), rec)
    reader = inspector.open_run(tmp_path / "every3")
    assert list(reader.steps()) == [0, 3, 6]
    assert len(reader.steps(recorded_only=False)) == 7
    steps, _ = reader.scalar("loss")
    assert list(steps) == list(range(7))  # scalars are kept for every step


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_same_code_path_without_host_sync(tmp_path):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 3, 32, 32, device="cuda"), torch.randint(0, 10, (8,), device="cuda")
    with inspector.watch(model, run="cuda", root=tmp_path, every=1) as rec:
        for _ in range(3):
            torch.cuda.set_sync_debug_mode("error")  # any sync in a hook raises
            try:
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            finally:
                torch.cuda.set_sync_debug_mode("default")
            rec.step(loss=loss)
    reader = inspector.open_run(tmp_path / "cuda")
    assert list(reader.steps()) == [0, 1, 2]
    assert all(math.isfinite(v) for v in reader.at_step("grad_norm", 2).values())
