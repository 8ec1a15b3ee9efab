"""Curves, gradient flow, activations and BatchNorm builders on real and synthetic runs."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from inspector import figures as F
from inspector.figures.access import thin_index
from inspector.figures.batchnorm import density
from inspector.figures.gradients import classify
from inspector.probes.bins import ACTIVATION_BINS, bin_labels, edges_for


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("loss_accuracy", ()),
        ("gradient_norms_by_layer", ()),
        ("gradient_norms_by_layer", (2, "param")),
        ("gradient_heatmap", ()),
        ("gradient_heatmap", ("update_ratio",)),
        ("activation_histogram_heatmap", ("@Conv2d",)),
        ("activation_histogram_heatmap", ("@Conv2d", "grad")),
        ("activation_histogram_heatmap", ("@BatchNorm2d", "norm_in")),
        ("activation_fractions", ()),
        ("activation_moments", ("@Tanh",)),
        ("bn_pre_post", ("@BatchNorm2d",)),
        ("bn_pre_post", ("@BatchNorm2d", 0)),
        ("bn_gaps", ()),
    ],
)
def test_builders_draw_a_recorded_run(full, fixture_runs, name, args):
    """``@Type`` stands for the run's first layer of that type (names come from the model)."""
    args = [fixture_runs.layer_named(full, a[1:]) if str(a)[:1] == "@" else a for a in args]
    fig = getattr(F, name)(full, *args)
    assert isinstance(fig, go.Figure)
    assert fig.data, name
    fig.to_json()  # serialisable for the browser and the HTML report


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("bn_pre_post", ("1",)),  # no BN in the bare run
        ("bn_gaps", ()),
        ("activation_histogram_heatmap", ("no-such-layer",)),
        ("activation_moments", ("no-such-layer",)),
        ("activation_fractions", ("not_a_stat",)),
        ("gradient_heatmap", ("not_a_stat",)),
    ],
)
def test_builders_return_none_when_the_run_lacks_data(bare, name, args):
    assert getattr(F, name)(bare, *args) is None


def test_dead_fractions_of_a_relu_run(nobn):
    fig = F.activation_fractions(nobn, "dead_frac")
    relus = [layer.name for layer in nobn.layers(role="module") if layer.type == "ReLU"]
    assert relus and [t.name for t in fig.data] == relus
    steps, dead = nobn.layer_series(relus[0], "dead_frac")
    np.testing.assert_allclose(np.asarray(fig.data[0].y, float)[: len(dead)], dead)


def test_loss_accuracy_matches_scalars(full):
    fig = F.loss_accuracy(full)
    steps, loss = full.scalar("loss")
    trace = next(t for t in fig.data if t.name == "train loss")
    np.testing.assert_allclose(trace.y, loss)
    np.testing.assert_array_equal(trace.x, steps)
    assert {t.name for t in fig.data} >= {"train accuracy", "test accuracy", "test loss"}


def test_gradient_flow_is_log_scaled_and_flags_vanishing_and_exploding(synthetic):
    # judged against the last layer (l3), as the vanishing-gradient rule does
    norms = np.array([[1e-9] * 3, [0.5] * 3, [5e4] * 3, [1.0] * 3])
    reader = synthetic(stats={"grad_norm": norms})
    fig = F.gradient_norms_by_layer(reader)
    assert fig.layout.yaxis.type == "log"
    by_state = {t.name: list(t.x) for t in fig.data if isinstance(t, go.Bar)}
    assert by_state["vanishing"] == ["l0"]
    assert by_state["exploding"] == ["l2"]
    assert by_state["ok"] == ["l1", "l3"]
    ok = next(t for t in fig.data if t.name == "ok")
    np.testing.assert_allclose(ok.y, [0.5, 1.0])


def test_classify_thresholds():
    values = np.array([np.nan, 0.0, 1e-5, 1.0, 2.0, np.inf])
    assert classify(values) == ["missing", "vanishing", "vanishing", "ok", "ok", "exploding"]


def test_gradient_norms_pick_the_nearest_recorded_step(synthetic):
    norms = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    reader = synthetic(stats={"grad_norm": norms})
    fig = F.gradient_norms_by_layer(reader, step=1)
    assert "step 1" in fig.layout.title.text
    np.testing.assert_allclose(fig.data[0].y, [2.0, 5.0])


def test_gradient_heatmap_is_log10_and_thinned_for_long_runs(synthetic):
    rng = np.random.default_rng(0)
    norms = 10 ** rng.uniform(-6, 1, size=(3, 900))
    reader = synthetic(stats={"grad_norm": norms})
    fig = F.gradient_heatmap(reader)
    x = np.asarray(fig.data[0].x).astype(int)
    assert len(x) <= 400 and x[0] == 0 and x[-1] == 899  # recorded steps, as categories
    np.testing.assert_allclose(np.asarray(fig.data[0].z), np.log10(norms[:, x]), atol=1e-3)
    assert list(fig.data[0].y) == ["l0", "l1", "l2"]


def test_histogram_heatmap_uses_bins_labels_and_fractions(synthetic):
    counts = np.zeros((1, 5, ACTIVATION_BINS), dtype=np.int64)
    counts[0, :, 40] = 3  # a bin near zero
    counts[0, :, 50] = 1
    reader = synthetic(hists={"act": counts})
    fig = F.activation_histogram_heatmap(reader, "l0")
    labels = bin_labels("value")
    assert list(fig.data[0].y) == labels[39:52]  # trimmed to used bins, one bin of margin
    frac = np.asarray(fig.data[0].customdata)
    assert frac.shape == (13, 5)
    np.testing.assert_allclose(frac[1], 75.0)
    np.testing.assert_allclose(frac[11], 25.0)


def test_histogram_heatmap_thins_2000_steps_to_400_columns(synthetic):
    counts = np.ones((1, 2000, ACTIVATION_BINS), dtype=np.int64)
    reader = synthetic(hists={"act": counts})
    fig = F.activation_histogram_heatmap(reader, "l0")
    assert len(fig.data[0].x) == 400
    assert "400 of 2000" in fig.layout.annotations[0].text


def test_fractions_lines_for_few_layers_heatmap_for_many(synthetic):
    few = synthetic("few", stats={"act_sat_frac": np.full((3, 4), 0.25)})
    fig = F.activation_fractions(few)
    assert len(fig.data) == 3 and all(isinstance(t, go.Scatter) for t in fig.data)
    many = synthetic("many", stats={"act_sat_frac": np.full((20, 4), 0.5)})
    fig = F.activation_fractions(many)
    assert isinstance(fig.data[0], go.Heatmap)
    assert np.asarray(fig.data[0].z).shape == (20, 4)


def test_moments_trace_mean(full, fixture_runs):
    tanh = fixture_runs.layer_named(full, "Tanh")
    fig = F.activation_moments(full, tanh)
    _, mean = full.layer_series(tanh, "act_mean")
    np.testing.assert_allclose(next(t for t in fig.data if t.name == "mean").y, mean)


def test_bn_pre_post_overlays_input_and_output_densities_on_one_axis(full, fixture_runs):
    bn = fixture_runs.layer_named(full, "BatchNorm2d")
    fig = F.bn_pre_post(full, bn)
    assert [t.name.split(":")[0] for t in fig.data] == [
        "input (before norm)",
        "output (after norm)",
    ]
    for t, kind in zip(fig.data, ("norm_in", "act"), strict=True):
        steps, _, counts = full.histogram(bn, kind)
        assert f"step {steps[-1]}" in fig.layout.title.text  # the latest recorded step
        _, _, shares = density(counts[-1].astype(float))
        edges = np.asarray(t.x, dtype=float)  # the drawn bins' true edges
        y = np.nan_to_num(np.asarray(t.y[:-1], dtype=float))
        mass = float(np.sum(y * np.diff(edges)))  # density x true width = share
        # the curve holds every share but the open ends and the zero bin (drawn apart)
        assert mass == pytest.approx(1.0 - sum(shares.values()), abs=1e-6)
        assert 0.5 < mass <= 1.0 + 1e-9
        assert t.line.shape == "hv" and np.asarray(t.x).dtype.kind == "f"  # a value axis
    assert fig.layout.xaxis.range is not None  # one shared range for both


def test_density_of_a_unit_gaussian_is_one_hump_on_true_widths():
    """Unequal symlog bins drawn as bars made N(0, 1) look like two humps; the density
    (share / true width) must follow the normal pdf."""
    x = np.random.default_rng(0).standard_normal(2_000_000)
    edges = edges_for("value")
    counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
    got_edges, dens, shares = density(counts.astype(float))
    centres = (got_edges[:-1] + got_edges[1:]) / 2
    cdf = np.array([0.5 * (1 + math.erf(e / math.sqrt(2))) for e in got_edges])
    exact = np.diff(cdf) / np.diff(got_edges)  # the pdf averaged over each true bin
    ok = np.isfinite(dens) & (np.abs(centres) < 2.5) & (np.abs(centres) > 0.05)
    np.testing.assert_allclose(dens[ok], exact[ok], rtol=0.03)
    peak = np.nanargmax(np.where(np.isfinite(dens), dens, -1))
    assert abs(centres[peak]) < 0.1  # one hump, at zero
    assert shares["below"] == shares["above"] == 0.0


def test_merging_tiny_bins_keeps_the_mass():
    from inspector.figures.batchnorm import merged

    x = np.random.default_rng(1).standard_normal(20_000)
    edges = edges_for("value")
    counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
    e, d, _ = density(counts.astype(float))
    me, md = merged(e, d, 0.1)
    assert np.nansum(md * np.diff(me)) == pytest.approx(np.nansum(d * np.diff(e)))
    widths = np.diff(me)[np.isfinite(md)]
    assert (widths < 0.1 - 1e-12).sum() <= 2  # slivers only beside the zero gap / at the end
    assert len(me) < len(e) - 20  # the 2 x 20 bins under 0.1 wide were joined


def test_bn_partner_is_the_same_family_without_bn():
    from inspector.figures.bn_partner import rank_partners

    def meta(name, **kw):
        return {"model": {"name": name, "kwargs": kw}, "data": {"name": "shapes"}}

    mine = meta("mlp", depth=6, width=64, norm="batch", act="tanh")
    candidates = {
        "mlp-d6": meta("mlp", depth=6, width=64, norm="none", act="tanh"),
        "mlp-d2": meta("mlp", depth=2, width=64, norm="none", act="tanh"),
        "lenet": meta("lenet5"),
    }
    ranked = rank_partners(mine, candidates)
    assert ranked[0][0] == "mlp-d6" and ranked[-1] == ("lenet", -1.0)
    best, score = rank_partners(meta("lenet5_bn"), candidates)[0]
    assert best == "lenet" and score >= 10


def test_bn_gaps_has_mean_and_variance_panels(full, fixture_runs):
    fig = F.bn_gaps(full)
    steps, gap = full.layer_series(fixture_runs.layer_named(full, "BatchNorm2d"), "bn_mean_gap")
    np.testing.assert_allclose(fig.data[0].y, gap)
    norms = [layer for layer in full.layers(role="module") if layer.type == "BatchNorm2d"]
    assert len(fig.data) == 2 * len(norms)  # one line per norm layer in each panel


def test_thin_index_keeps_ends():
    idx = thin_index(2000, 400)
    assert len(idx) == 400 and idx[0] == 0 and idx[-1] == 1999
    assert list(thin_index(5, 400)) == [0, 1, 2, 3, 4]
