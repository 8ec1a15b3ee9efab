"""What the recorder stores equals a naive autograd + numpy recomputation of the same steps."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import inspector


def make_model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))


def reference_step(model: nn.Sequential, x, y) -> dict:
    """Re-run one step on a copy with plain autograd: outputs, their grads, param grads."""
    ref = copy.deepcopy(model)
    outs, h = {}, x
    for name, module in ref.named_children():
        h = module(h)
        h.retain_grad()
        outs[name] = h
    nn.functional.cross_entropy(h, y).backward()
    return {
        "act": {n: o.detach().numpy().astype(np.float64) for n, o in outs.items()},
        "grad": {n: o.grad.numpy().astype(np.float64) for n, o in outs.items()},
        "w_before": {n: p.detach().numpy().astype(np.float64) for n, p in ref.named_parameters()},
        "g": {n: p.grad.numpy().astype(np.float64) for n, p in ref.named_parameters()},
    }


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    refs = []
    g = torch.Generator().manual_seed(1)
    with inspector.watch(model, run="naive", root=root, every=1, exact=True) as rec:
        for _ in range(3):
            x, y = torch.randn(8, 6, generator=g) * 2, torch.randint(0, 3, (8,), generator=g)
            ref = reference_step(model, x, y)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss=loss)
            ref["w_after"] = {
                n: p.detach().numpy().astype(np.float64) for n, p in model.named_parameters()
            }
            ref["loss"] = float(loss.detach())
            refs.append(ref)
    return inspector.open_run(root / "naive"), refs


def test_activation_stats_match_naive(recorded):
    reader, refs = recorded
    for step, ref in enumerate(refs):
        for name, a in ref["act"].items():
            got = {
                s: reader.at_step(s, step)[name]
                for s in (
                    "act_mean",
                    "act_std",
                    "act_min",
                    "act_max",
                    "act_norm",
                    "act_zero_frac",
                    "act_numel",
                )
            }
            assert got["act_mean"] == pytest.approx(a.mean(), rel=1e-4, abs=1e-6)
            assert got["act_std"] == pytest.approx(a.std(), rel=1e-3, abs=1e-6)
            assert got["act_min"] == pytest.approx(a.min(), rel=1e-5, abs=1e-6)
            assert got["act_max"] == pytest.approx(a.max(), rel=1e-5, abs=1e-6)
            assert got["act_norm"] == pytest.approx(np.linalg.norm(a), rel=1e-5)
            assert got["act_zero_frac"] == pytest.approx(np.mean(a == 0))
            assert got["act_numel"] == a.size


def test_saturation_and_dead_units_match_naive(recorded):
    reader, refs = recorded
    for step, ref in enumerate(refs):
        tanh = ref["act"]["1"]
        sat = np.mean((tanh <= -1 + 0.02) | (tanh >= 1 - 0.02))
        assert reader.at_step("act_sat_frac", step)["1"] == pytest.approx(sat)
        relu = ref["act"]["3"]
        dead = np.mean(~(relu > 0).any(axis=0))
        assert reader.at_step("dead_frac", step)["3"] == pytest.approx(dead)
    assert "0" not in reader.at_step("act_sat_frac", 0)  # unbounded layers have no saturation


def test_activation_gradients_match_autograd(recorded):
    reader, refs = recorded
    for step, ref in enumerate(refs):
        for name, g in ref["grad"].items():
            assert reader.at_step("grad_norm", step)[name] == pytest.approx(
                np.linalg.norm(g), rel=1e-4
            )
            assert reader.at_step("grad_mean", step)[name] == pytest.approx(
                g.mean(), rel=1e-3, abs=1e-7
            )
            assert reader.at_step("grad_zero_frac", step)[name] == pytest.approx(np.mean(g == 0))


def test_parameter_norms_and_update_ratio(recorded):
    reader, refs = recorded
    for step, ref in enumerate(refs):
        for name, g in ref["g"].items():
            w_after = ref["w_after"][name]
            upd = np.linalg.norm(w_after - ref["w_before"][name])
            assert reader.at_step("g_norm", step)[name] == pytest.approx(
                np.linalg.norm(g), rel=1e-4
            )
            assert reader.at_step("w_norm", step)[name] == pytest.approx(
                np.linalg.norm(w_after), rel=1e-5
            )
            assert reader.at_step("update_ratio", step)[name] == pytest.approx(
                upd / np.linalg.norm(ref["w_before"][name]), rel=1e-5
            )
            assert reader.at_step("g_nan", step)[name] == 0


def test_histograms_count_every_finite_element_in_exact_mode(recorded):
    reader, refs = recorded
    for name, a in refs[0]["act"].items():
        steps, edges, counts = reader.histogram(name, "act")
        assert list(steps) == [0, 1, 2]
        assert counts[0].sum() == a.size
        expected = np.bincount(
            np.searchsorted(edges, a.ravel(), side="right"), minlength=len(edges) + 1
        )
        np.testing.assert_array_equal(counts[0], expected)
        _, _, gcounts = reader.histogram(name, "grad")
        assert gcounts[0].sum() == a.size
    _, _, pcounts = reader.histogram("0.weight", "param_grad")
    assert pcounts[0].sum() == 30


def test_scalars_and_layers(recorded):
    reader, refs = recorded
    steps, losses = reader.scalar("loss")
    np.testing.assert_allclose(losses, [r["loss"] for r in refs], rtol=1e-6)
    assert list(steps) == [0, 1, 2]
    modules = reader.layers("module")
    assert [m.name for m in modules] == ["0", "1", "2", "3", "4"]  # forward order
    assert modules[1].info["bounds"] == [-1.0, 1.0] and modules[3].info["can_die"]
    params = reader.layers("param")
    assert {p.name for p in params} == {n for n in refs[0]["g"]}
    assert reader.status == "finished"
    assert reader.meta["model"]["params"] == sum(v.size for v in refs[0]["g"].values())
    t_steps, wall, duration = reader.step_times()
    assert list(t_steps) == [0, 1, 2] and np.all(np.diff(wall) >= 0)


def test_batchnorm_input_stats_and_gaps_match_naive(tmp_path):
    """conv -> BN reuses the conv output's summary as the BN input's; both must be exact."""
    torch.manual_seed(2)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3),
        nn.BatchNorm2d(3),
        nn.ReLU(inplace=True),
        nn.BatchNorm2d(3),
        nn.Flatten(),
        nn.Linear(3 * 4 * 4, 2),
    )
    x = torch.randn(6, 2, 6, 6) * 3 + 1
    with torch.no_grad():
        conv_out = model[0](x).numpy().astype(np.float64)
        relu_out = np.maximum(model[1](model[0](x)).numpy().astype(np.float64), 0)
    rm, rv = model[1].running_mean.clone().numpy(), model[1].running_var.clone().numpy()
    with inspector.watch(model, run="bn", root=tmp_path, every=1, exact=True) as rec:
        model(x).sum().backward()
        rec.step()
    reader = inspector.open_run(tmp_path / "bn")
    for layer, ref in (("1", conv_out), ("3", relu_out)):  # BN after conv, BN after in-place ReLU
        assert reader.at_step("in_mean", 0)[layer] == pytest.approx(ref.mean(), rel=1e-4)
        assert reader.at_step("in_std", 0)[layer] == pytest.approx(ref.std(), rel=1e-4)
        assert reader.at_step("in_min", 0)[layer] == pytest.approx(ref.min(), rel=1e-5)
    # the shared summary is histogrammed once and stored for both layers
    _, edges, in_counts = reader.histogram("1", "norm_in")
    np.testing.assert_array_equal(in_counts, reader.histogram("0", "act")[2])
    expected = np.bincount(
        np.searchsorted(edges, conv_out.ravel(), side="right"), minlength=len(edges) + 1
    )
    np.testing.assert_array_equal(in_counts[0], expected)
    per_channel = np.moveaxis(conv_out, 1, 0).reshape(3, -1)
    eps = model[1].eps
    mean_gap = np.mean(np.abs(per_channel.mean(1) - rm) / np.sqrt(rv + eps))
    var_gap = np.mean(np.abs(np.log(per_channel.var(1) + eps) - np.log(rv + eps)))
    assert reader.at_step("bn_mean_gap", 0)["1"] == pytest.approx(mean_gap, rel=1e-4)
    assert reader.at_step("bn_var_gap", 0)["1"] == pytest.approx(var_gap, rel=1e-4)
    assert reader.at_step("bn_batch_size", 0)["1"] == 6
    # the BN output is normalised: mean ~ 0, std ~ 1 (weight 1, bias 0 at init)
    assert abs(reader.at_step("act_mean", 0)["1"]) < 1e-5


def test_sampled_update_ratio_is_close_to_exact(tmp_path):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(256, 256), nn.Tanh(), nn.Linear(256, 4))  # 65k > 4096
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = model[0].weight.detach().clone()
    with inspector.watch(model, run="upd", root=tmp_path, every=1) as rec:
        loss = nn.functional.cross_entropy(model(torch.randn(32, 256)), torch.randint(0, 4, (32,)))
        loss.backward()
        opt.step()
        rec.step()
    with torch.no_grad():
        exact = float((model[0].weight - before).norm() / before.norm())
    got = inspector.open_run(tmp_path / "upd").at_step("update_ratio", 0)["0.weight"]
    assert got == pytest.approx(exact, rel=0.1)


def test_update_ratio_after_unrecorded_steps(tmp_path):
    """Recorded steps 0, 2, 4: each update is measured against the weights from just before
    its own optimizer step, not the snapshot of an earlier recorded step."""
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
    expected = {}
    with inspector.watch(model, run="gaps", root=tmp_path, every=2) as rec:
        for step in range(6):
            before = model[0].weight.detach().clone()
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            with torch.no_grad():
                expected[step] = float((model[0].weight - before).norm() / before.norm())
            rec.step()
    reader = inspector.open_run(tmp_path / "gaps")
    assert list(reader.steps()) == [0, 2, 4]
    for step in (0, 2, 4):
        got = reader.at_step("update_ratio", step)["0.weight"]
        assert got == pytest.approx(expected[step], rel=1e-5)


class _Block(nn.Module):
    """Transformer-style position-wise feed-forward: (B, L, F) -> Linear -> ReLU -> Linear."""

    def __init__(self, width: int = 32, hidden: int = 32) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(width, 4, batch_first=True)
        self.norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, hidden)
        self.act = nn.ReLU()
        self.down = nn.Linear(hidden, width)

    def forward(self, x):
        h = self.norm(x + self.attn(x, x, x, need_weights=False)[0])
        return h + self.down(self.act(self.up(h)))


def _kill(linear: nn.Linear, dead: slice) -> None:
    with torch.no_grad():  # these units' pre-activations are < 0 for every input
        linear.weight[dead] = 0.0
        linear.bias[dead] = -1.0


@pytest.mark.parametrize("case", ["linear_seq", "conv", "transformer"])
def test_dead_units_are_features_of_linear_and_channels_of_conv(tmp_path, case):
    torch.manual_seed(4)
    if case == "linear_seq":  # Linear + ReLU applied per position of (B, L, F)
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 3))
        _kill(model[0], slice(4, None))
        x, relu = torch.randn(8, 12, 16), "1"
    elif case == "conv":
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3))
        with torch.no_grad():
            model[0].weight[2:] = 0.0
            model[0].bias[2:] = -1.0
        x, relu = torch.randn(4, 3, 6, 6), "1"
    else:
        model = nn.Sequential(_Block())
        _kill(model[0].up, slice(4, None))
        x, relu = torch.randn(8, 12, 32), "0.act"
    model(x)  # materialise lazy layers
    seen = {}
    handle = dict(model.named_modules())[relu].register_forward_hook(
        lambda m, i, o: seen.setdefault("out", o.detach().clone())
    )
    with torch.no_grad():
        model(x)
    handle.remove()
    out = seen["out"]
    unit_axis = 1 if case == "conv" else out.dim() - 1
    per_unit = out.movedim(unit_axis, 0).reshape(out.shape[unit_axis], -1)
    expected = float((per_unit.amax(dim=1) <= 0).float().mean())
    assert expected == {"linear_seq": 28 / 32, "conv": 6 / 8, "transformer": 28 / 32}[case]
    with inspector.watch(model, run=case, root=tmp_path, every=1, exact=True) as rec:
        model(x).sum().backward()
        rec.step()
    reader = inspector.open_run(tmp_path / case)
    assert reader.at_step("dead_frac", 0)[relu] == pytest.approx(expected)
    steps, active = reader.unit_activity(relu)
    assert active.shape[1] == per_unit.shape[0]


def test_update_ratio_divides_by_the_weights_before_the_step(tmp_path):
    """A large step: ||w_after - w_before|| / ||w_before|| ~ 280 (over ||w_after|| it reads ~1)."""
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(8, 8, bias=False))
    with torch.no_grad():
        model[0].weight.mul_(1e-3)
    before = model[0].weight.detach().double().clone()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    with inspector.watch(model, run="big", root=tmp_path, every=1, exact=True) as rec:
        model[0].weight.grad = -280 * before.norm() * torch.randn(8, 8).div(8)
        model[0].weight.grad = model[0].weight.grad.float()
        opt.step()
        rec.step()
    after = model[0].weight.detach().double()
    truth = float((after - before).norm() / before.norm())
    assert 200 < truth < 400
    got = inspector.open_run(tmp_path / "big").at_step("update_ratio", 0)["0.weight"]
    assert got == pytest.approx(truth, rel=1e-6)
