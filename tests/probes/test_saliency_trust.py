"""Saliency trust checks: Spearman vs naive references, mask scores, the randomization test."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inspector.data import load_data
from inspector.probes.saliency import compute_saliency, prepare_model
from inspector.probes.saliency_trust import (
    REFLECTS_MODEL_THRESHOLD,
    cascade_stages,
    mask_scores,
    parameterised_layers,
    randomization_check,
    rankdata,
    spearman,
    trust_summary,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def naive_ranks(v: np.ndarray) -> np.ndarray:
    """O(n^2): rank = 1 + #smaller + (#equal - 1) / 2."""
    return np.array([1 + (v < a).sum() + ((v == a).sum() - 1) / 2 for a in v], dtype=float)


def naive_spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = naive_ranks(a), naive_ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def test_rankdata_and_spearman_match_naive_references_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 6, size=40).astype(float)  # many ties
        b = a + rng.normal(0, 2, size=40)
        b[::5] = 0.0
        np.testing.assert_allclose(rankdata(a), naive_ranks(a))
        assert spearman(a, b) == pytest.approx(naive_spearman(a, b), abs=1e-12)
    x = rng.random(50)
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert spearman(np.ones(5), np.ones(5)) == 1.0
    assert spearman(np.ones(5), x[:5]) == 0.0


def test_mask_scores_against_a_loop():
    rng = np.random.default_rng(1)
    maps = rng.random((4, 6, 6)).astype(np.float32)
    maps[2] = 0
    masks = rng.random((4, 6, 6)) > 0.6
    share, hit = mask_scores(maps, masks)
    shares, hits = [], []
    for m, k in zip(maps, masks, strict=True):
        if m.sum() > 0:  # an all-zero map points nowhere: left out
            shares.append(m[k].sum() / m.sum())
            hits.append(k.flat[int(np.argmax(m))])
    assert share == pytest.approx(np.mean(shares), rel=1e-6)
    assert hit == pytest.approx(np.mean(hits))
    assert mask_scores(np.zeros((2, 3, 3)), np.ones((2, 3, 3), bool)) == (None, None)


def test_cascade_stages_and_layer_order():
    assert cascade_stages(0) == []
    assert cascade_stages(2) == [1, 2]
    assert cascade_stages(7, 3) == [1, 5, 7]
    assert cascade_stages(10, 4) == [1, 5, 8, 10]
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    assert parameterised_layers(net, torch.rand(1, 1, 6, 6)) == ["0", "3"]


class Quadratic(nn.Module):
    """f_k(x) = w_k * sum(x^2): the gradient map is |x| whatever the weights are."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1, bias=False)  # untouched path, gives Grad-CAM nothing
        self.head = nn.Linear(1, 3)

    def forward(self, x):
        energy = (x**2).sum(dim=(1, 2, 3)).unsqueeze(1) + 0 * self.conv(x).sum()
        return self.head(energy)


def test_a_model_independent_map_is_flagged():
    torch.manual_seed(0)
    net = Quadratic()
    with torch.no_grad():
        net.head.weight.copy_(torch.tensor([[1.0], [2.0], [3.0]]))
    x = torch.rand(3, 1, 12, 12)
    res = compute_saliency(net, x, methods=["saliency", "gradcam"])
    wrapped = prepare_model(net)
    check = randomization_check(wrapped, x, torch.tensor(res.targets), res.maps, "conv")
    assert check.stages == [["head"], ["head", "conv"]]
    assert check.final("saliency") > 0.99  # the map only shows the input
    trust = trust_summary(res.maps, check, masks=None)
    assert trust["saliency"]["reflects_model"] is False and trust["saliency"]["mask_share"] is None
    # Grad-CAM through a zero-weighted path is all zero: nothing to check, said so
    assert trust["gradcam"]["reflects_model"] is None and "constant map" in trust["gradcam"]["note"]


def train_small_cnn(bundle, steps: int) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Linear(32, bundle.info.num_classes),
    )
    if steps == 0:
        return net.eval()
    opt = torch.optim.Adam(net.parameters(), 5e-3)
    loader = torch.utils.data.DataLoader(
        bundle.train, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    done = 0
    while done < steps:
        for x, y in loader:
            loss = nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
    return net.eval()


def trust_of(net, x, masks, methods):
    res = compute_saliency(net, x, methods=methods)
    check = randomization_check(
        prepare_model(net), x, torch.tensor(res.targets), res.maps, res.target_layer
    )
    return trust_summary(res.maps, check, masks.numpy())


def test_sanity_check_separates_trained_from_random_on_shapes():
    bundle = load_data("shapes", seed=0, n_train=1000, n_test=64, clutter=0, noise=0.05)
    x, y, masks = bundle.probe_batch(n=8, seed=0)
    trained = train_small_cnn(bundle, steps=250)
    with torch.no_grad():
        accuracy = (trained(x).argmax(1) == y).float().mean().item()
    assert accuracy >= 0.6  # it learned something (6 classes, chance 1/6)
    methods = ["saliency", "guided_backprop", "gradcam"]
    before = [p.detach().clone() for p in trained.parameters()]
    t_trust = trust_of(trained, x, masks, methods)
    assert all(torch.equal(a, b) for a, b in zip(before, trained.parameters(), strict=True))
    # randomizing the trained model destroys its vanilla-gradient and Grad-CAM maps
    for method in ("saliency", "gradcam"):
        assert t_trust[method]["randomization_spearman"] < REFLECTS_MODEL_THRESHOLD
        assert t_trust[method]["reflects_model"] is True
        assert len(t_trust[method]["randomization_by_stage"]) == 3
    # and the trained model looks at the object more than an untrained one does
    r_trust = trust_of(train_small_cnn(bundle, steps=0), x, masks, methods)
    trained_share = np.mean([t_trust[m]["mask_share"] for m in methods])
    random_share = np.mean([r_trust[m]["mask_share"] for m in methods])
    assert trained_share > random_share + 0.03
