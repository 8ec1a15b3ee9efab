"""The known results, reproduced on shapes with fixed seeds (the demo's settings, fewer cells).

MLPs: plain tanh nets stop training as depth grows while residual nets of the same depth
still train; the first/last gradient-norm ratio of plain nets collapses by orders of
magnitude with depth and stays within an order of magnitude of 1 for residual(+BN) nets.

CNNs (He et al. 2016, DLWPT NetDepth/NetResDeep): with BatchNorm on both variants, a deep
plain ``plain_cnn`` fits the training set worse than a shallow one, while the residual net
of the same depth fits it.
"""

from __future__ import annotations

import math

import pytest
import torch

from inspector.study.grid import StudyKind
from inspector.study.runner import StudySpec, run_study

CHANCE_LOSS = math.log(6)  # six shape classes


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    spec = StudySpec(
        kind=StudyKind.DEPTH,
        axes={
            "depth": [2, 12],
            "skip": ["none", "residual"],
            "norm": ["none", "batch"],
            "act": ["tanh"],
            "seed": [0],
        },
        model="mlp",
        model_args={"width": 64},
        data_options={"n_train": 256, "n_test": 64},
        steps=300,
        lr=0.005,
        device="cpu",
    )
    try:
        study = run_study(spec, root=tmp_path_factory.mktemp("runs"), jobs=1, quiet=True)
    finally:
        torch.set_num_threads(before)
    assert all(c["status"] == "finished" for c in study.cells)
    return {
        (c["config"]["depth"], c["config"]["skip"], c["config"]["norm"]): c["metrics"]
        for c in study.cells
    }


def test_plain_tanh_stops_training_with_depth_residual_does_not(metrics):
    loss = {k: m["final_loss"] for k, m in metrics.items()}
    assert loss[(2, "none", "none")] < 0.5 * CHANCE_LOSS  # shallow plain fits the data
    assert loss[(12, "none", "none")] > 0.9 * CHANCE_LOSS  # deep plain is stuck at guessing
    assert loss[(12, "residual", "none")] < 0.25 * CHANCE_LOSS  # same depth + skips trains
    assert loss[(12, "residual", "batch")] < 0.25 * CHANCE_LOSS
    assert metrics[(12, "none", "none")]["steps_to_threshold"] is None
    assert metrics[(12, "residual", "none")]["steps_to_threshold"] is not None


def test_gradient_ratio_collapses_for_plain_nets_only(metrics):
    ratio = {k: m["grad_ratio_init"] for k, m in metrics.items()}
    plain_shallow, plain_deep = ratio[(2, "none", "none")], ratio[(12, "none", "none")]
    assert plain_deep < 1e-2 and plain_deep < plain_shallow / 30  # orders of magnitude
    for depth in (2, 12):
        for norm in ("none", "batch"):
            assert 0.1 < ratio[(depth, "residual", norm)] < 10  # within one order of 1
    # activations shrink layer by layer in the plain tanh stack at init
    stds = metrics[(12, "none", "none")]["act_std_init"]
    assert len(stds) == 13 and stds[-1] < stds[0] / 3


@pytest.fixture(scope="module")
def cnn_metrics(tmp_path_factory):
    """A small version of ``inspector study depth --model plain_cnn`` (width 4, 200 steps)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    spec = StudySpec(
        kind=StudyKind.DEPTH,
        axes={
            "depth": [2, 16],
            "skip": ["none", "residual"],
            "norm": ["batch"],
            "act": ["relu"],
            "seed": [0],
        },
        model="plain_cnn",
        model_args={"width": 4},
        data_options={"n_train": 256, "n_test": 32},
        steps=200,
        lr=0.05,
        every=10,  # the losses are stored every step; fewer recorded steps keep it quick
        device="cpu",
    )
    try:
        study = run_study(spec, root=tmp_path_factory.mktemp("cnn_runs"), jobs=1, quiet=True)
    finally:
        torch.set_num_threads(before)
    assert all(c["status"] == "finished" for c in study.cells)
    return {(c["config"]["depth"], c["config"]["skip"]): c["metrics"] for c in study.cells}


@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~1 minute on a quiet machine; the fixture trains four CNNs
def test_plain_cnn_degrades_with_depth_even_with_batchnorm_residual_does_not(cnn_metrics):
    loss = {k: m["final_loss"] for k, m in cnn_metrics.items()}
    # shallow nets train (measured: plain 0.20, residual 0.56; chance is ln 6 = 1.79)
    assert loss[(2, "none")] < 0.5 and loss[(2, "residual")] < CHANCE_LOSS / 2, loss
    assert loss[(16, "residual")] < 0.1, loss  # the same depth with skips fits (0.003)
    # deep plain (0.89): worse than shallow plain and than residual of its depth, despite BN
    assert loss[(16, "none")] > 2 * loss[(2, "none")] + 0.2, loss
    assert loss[(16, "none")] > 3 * loss[(16, "residual")] + 0.3, loss
