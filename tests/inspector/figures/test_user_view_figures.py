"""What a user sees (issue 15, #12 item 9): lines only at recorded steps, heatmaps on the
recorded-step axis, TensorBoard-style smoothing, seeds folded into mean ± spread, one colour
per run, log colour scales and readable log ticks, study cells selectable, explanations
instead of blank views."""

from __future__ import annotations

import numpy as np
import pytest

from inspector import figures as F
from inspector.figures.lines import ema, gapped, mean_spread, seed_groups
from inspector.figures.receptive_field import receptive_field_applies
from inspector.figures.saliency import blank_methods, verdict
from inspector.figures.study import spans_decades
from inspector.figures.theme import RUN_PALETTE, run_colours, run_slot
from inspector.store import RunStatus, RunWriter, open_run

SPARSE_STEPS = [0, 1, 2, 3, 4, 116, 290]  # the old default schedule on a 300-step run


def _run(root, name, steps, values, meta=None, records=(), loss=None):
    """A real stored run: one Linear layer 'l0' with grad_norm = values at ``steps``."""
    writer = RunWriter.create(
        name, root=root, meta=meta or {"model": {"name": "m"}, "data": {"name": "d"}}
    )
    ids = writer.register_layers(
        [{"name": "l0", "role": "module", "type": "Linear", "position": 0, "info": {}}]
    )
    for step in range(max(steps) + 1):
        recorded = step in steps
        stats = [("grad_norm", ids["l0"], values[steps.index(step)])] if recorded else []
        stats += [("act_sat_frac", ids["l0"], 0.5)] if recorded else []
        scalars = [("loss", step, float(loss[step]))] if loss is not None else []
        writer.write_step(step, 1000.0 + 2 * step, 2.0, recorded, stats=stats, scalars=scalars)
    for kind, key, value in records:
        writer.put_record(kind, key, value)
    writer.set_status(RunStatus.FINISHED)
    writer.close()
    return open_run(root / name)


def test_gapped_breaks_lines_across_unrecorded_stretches():
    x, y = gapped(np.array(SPARSE_STEPS), np.arange(7.0))
    assert np.isnan(y).sum() == 2  # between 4 and 116, and between 116 and 290
    dense = np.arange(0, 300, 3)
    assert not np.isnan(gapped(dense, np.ones(len(dense)))[1]).any()


def test_heatmaps_and_lines_draw_only_recorded_steps(tmp_path):
    reader = _run(tmp_path, "sparse", SPARSE_STEPS, [1e-3, 1e-3, 1e-2, 1e-2, 1e-1, 1.0, 1.0])
    heat = F.gradient_heatmap(reader)
    assert list(heat.data[0].x) == [str(s) for s in SPARSE_STEPS]  # one column per recorded step
    assert heat.layout.xaxis.type == "category"
    lines = F.activation_fractions(reader, "act_sat_frac")
    x = np.asarray(lines.data[0].x, dtype=float)
    y = np.asarray(lines.data[0].y, dtype=float)
    assert np.nanmax(x) == 290  # never past the run's last recorded step
    assert np.isnan(y).any() and "markers" in lines.data[0].mode


def test_ema_matches_tensorboard_debiased_smoothing():
    values = np.array([1.0, 3.0, np.nan, 2.0, 8.0])
    w = 0.6
    last, n, expected = 0.0, 0, []
    for v in values:  # TensorBoard's scalar smoothing, written out
        if np.isnan(v):
            expected.append(np.nan)
            continue
        last = last * w + (1 - w) * v
        n += 1
        expected.append(last / (1 - w**n))
    np.testing.assert_allclose(ema(values, w), expected)
    np.testing.assert_array_equal(ema(values, 0.0), values)


def test_smoothing_keeps_the_raw_curve_faint(tmp_path):
    loss = np.linspace(2, 0.1, 50) + np.random.default_rng(0).normal(0, 0.2, 50)
    reader = _run(tmp_path, "noisy", list(range(50)), [1.0] * 50, loss=loss)
    fig = F.loss_accuracy(reader, smoothing=0.8)
    raw, smooth = fig.data[0], fig.data[1]
    assert raw.opacity < 0.5 and raw.showlegend is False
    np.testing.assert_allclose(np.asarray(raw.y, float), loss)
    np.testing.assert_allclose(np.asarray(smooth.y, float), ema(loss, 0.8))
    wall = F.loss_accuracy(reader, x="wall time")
    np.testing.assert_allclose(np.asarray(wall.data[0].x, float), 2.0 * np.arange(50))


def test_seeds_fold_into_mean_and_min_max(tmp_path):
    metas, readers = {}, {}
    rng = np.random.default_rng(1)
    losses = [rng.uniform(0, 1, 20) for _ in range(3)]
    for seed, loss in enumerate(losses):
        meta = {"model": {"name": "mlp", "kwargs": {"depth": 2}}, "hparams": {"seed": seed}}
        readers[f"s{seed}"] = _run(
            tmp_path, f"s{seed}", list(range(20)), [1.0] * 20, meta, (), loss
        )
        metas[f"s{seed}"] = meta
    metas["other"] = {"model": {"name": "mlp", "kwargs": {"depth": 4}}, "hparams": {"seed": 0}}
    assert seed_groups(metas) == [["s0", "s1", "s2"], ["other"]]
    _, mean, lo, hi = mean_spread([(np.arange(20), v) for v in losses])
    np.testing.assert_allclose(mean, np.mean(losses, axis=0))
    np.testing.assert_allclose(lo, np.min(losses, axis=0))
    fig = F.compare_runs(readers, "loss", group_seeds=True)
    named = [t for t in fig.data if t.showlegend is not False]
    assert len(named) == 1 and "+2 seeds" in named[0].name
    np.testing.assert_allclose(np.asarray(named[0].y, float), np.mean(losses, axis=0))


def test_each_run_keeps_one_colour_and_twelve_runs_differ():
    ids = [f"depth-mlp.d{d}-{v}-s0" for d in (2, 6, 12) for v in ("a", "b", "c", "d")]
    colours = run_colours(ids)
    assert len(set(colours.values())) == 12
    for run_id in ids:
        assert run_colours([run_id])[run_id] == RUN_PALETTE[run_slot(run_id)]
    assert run_colours(list(reversed(ids))) == colours  # order on the chart does not matter


def test_compare_uses_the_run_colour_and_log_ticks(tmp_path):
    a = _run(tmp_path, "a", [0, 1, 2], [1e-4, 1e-2, 1.0])
    b = _run(tmp_path, "b", [0, 1, 2], [1e-3, 1e-1, 10.0])
    fig = F.compare_runs({"a": a, "b": b}, "grad_norm")
    by_name = {t.name: t.line.color for t in fig.data if t.showlegend is not False}
    assert by_name == run_colours(["a", "b"])
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1
    assert fig.layout.yaxis.exponentformat == "power"
    assert fig.layout.legend.x > 1  # beside the plot: never over the title


def test_study_heatmap_log_scale_and_selectable_cells():
    cells = [
        {"config": {"depth": d, "skip": s}, "run_id": f"r{d}{s}", "status": "finished",
         "metrics": {"grad_ratio_init": v}}
        for (d, s), v in {(2, "none"): 0.33, (6, "none"): 0.032, (12, "none"): 0.0012,
                          (2, "residual"): 0.9, (6, "residual"): 0.8, (12, "residual"): 0.7}.items()
    ]  # fmt: skip
    study = {"id": "s", "kind": "depth", "axes": {"depth": [2, 6, 12], "skip": ["none", "residual"]},
             "cells": cells}  # fmt: skip
    fig = F.study_heatmap(study, "grad_ratio_init")
    heat, marks = fig.data
    z = np.asarray(heat.z, dtype=float)
    assert np.nanmax(z) <= 0 and np.nanmin(z) == pytest.approx(np.log10(0.0012))  # log colour
    assert set(heat.text[2]) >= {"0.0012"}  # the cells still print the true value
    assert marks.type == "scatter" and len(marks.x) == 6  # one selectable marker per cell
    assert "r12none" in list(marks.customdata)
    assert fig.layout.dragmode is None  # left to Streamlit: a click then selects a cell
    assert not spans_decades(np.array([0.5, 0.7, 0.9]))


def test_mlp_receptive_field_says_it_does_not_apply(tmp_path):
    mlp = {"layers": [{"name": "0", "type": "Flatten", "rf": [1, 1], "jump": [1, 1]},
                      {"name": "1", "type": "Linear", "rf": [28, 28], "jump": [1, 1]}]}  # fmt: skip
    reader = _run(tmp_path, "mlp", [0], [1.0], records=[("receptive_field", "layers", mlp)])
    assert receptive_field_applies(reader) is False
    assert F.receptive_field_growth(reader) is None
    cnn = {"layers": [{"name": "c", "type": "Conv2d", "rf": [3, 3], "jump": [1, 1]}]}
    reader = _run(tmp_path, "cnn", [0], [1.0], records=[("receptive_field", "layers", cnn)])
    assert receptive_field_applies(reader) is True


def test_blank_saliency_maps_give_their_reason(tmp_path):
    why = "constant map for every image (e.g. Grad-CAM on a 1x1 layer): nothing to check"
    summary = {"methods": ["gradcam"], "trust": {"gradcam": {"reflects_model": False, "note": why}}}
    reader = _run(tmp_path, "sal", [0], [1.0], records=[("saliency", "summary", summary)])
    assert blank_methods(reader) == {"gradcam": why}
    assert verdict({"reflects_model": False, "note": why}) == "blank map (see note)"
    assert verdict({"reflects_model": True}).startswith("✓")
    assert verdict({"reflects_model": False}).startswith("✗")  # the real fixture run has none
