"""Kernels, saliency and receptive-field builders on stored arrays and records."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from inspector import figures as F
from inspector.figures.kernels import _mosaic
from inspector.store import RunWriter, open_run
from inspector.store.records import (
    ERF_KIND,
    KERNELS_PREFIX,
    RECEPTIVE_FIELD,
    SALIENCY,
    erf_array,
)


@pytest.mark.parametrize(
    "name", ["kernel_grid", "saliency_grid", "saliency_trust", "receptive_field_growth", "erf_maps"]
)
def test_artifact_builders_draw_the_full_run_and_skip_the_bare_one(full, bare, name):
    fig = getattr(F, name)(full)
    assert isinstance(fig, go.Figure) and fig.data
    fig.to_json()
    assert getattr(F, name)(bare) is None


def test_kernel_grid_picks_the_nearest_snapshot(full):
    (name,) = [n for n in full.array_names() if n.startswith(KERNELS_PREFIX)]
    layer = name.removeprefix(KERNELS_PREFIX)
    steps = full.array_steps(name)
    assert steps[0] == 0 and steps[-1] == int(full.steps()[-1]) + 1  # start, ..., the end
    between = (steps[1] + steps[2]) // 2 + 1  # nearer the third snapshot than the second
    fig = F.kernel_grid(full, layer, step=between)
    assert f"step {steps[2]}" in fig.layout.title.text
    weights = full.array(name, steps[2])
    kh, kw = weights.shape[2:]
    z = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_allclose(z[:kh, :kw], weights[0, 0])  # first tile = first filter
    peak = max(np.abs(full.array(name, s)).max() for s in steps)
    assert fig.data[0].zmax == pytest.approx(peak)  # one scale for every snapshot
    for step in steps:
        other = F.kernel_grid(full, layer, step)
        assert (other.data[0].zmin, other.data[0].zmax) == (-peak, peak) or (
            other.data[0].zmax == pytest.approx(peak)
        )


@pytest.fixture
def writer(tmp_path):
    w = RunWriter.create("arrays", root=tmp_path)
    yield w
    w.close()


def test_kernel_grid_rgb_and_multichannel(writer, tmp_path):
    rng = np.random.default_rng(0)
    writer.put_array("kernels/rgb", rng.normal(size=(5, 3, 3, 3)).astype(np.float32), step=0)
    writer.put_array("kernels/deep", rng.normal(size=(6, 4, 3, 3)).astype(np.float32), step=0)
    reader = open_run(tmp_path / "arrays")
    rgb = F.kernel_grid(reader, "rgb")
    assert isinstance(rgb.data[0], go.Image)
    deep = F.kernel_grid(reader, "deep")
    assert np.asarray(deep.data[0].z).shape == (6 * 4 - 1, 4 * 4 - 1)  # 6 rows x 4 cols, gaps


def test_mosaic_places_tiles_with_gaps():
    tiles = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)
    out = _mosaic(tiles, cols=2)
    assert out.shape == (5, 5)
    np.testing.assert_array_equal(out[:2, :2], tiles[0])
    np.testing.assert_array_equal(out[3:, :2], tiles[2])
    assert np.isnan(out[2]).all() and np.isnan(out[3:, 3:]).all()


def test_saliency_grid_rows_images_columns_methods(full):
    summary = full.record(*SALIENCY)
    methods, names = summary["methods"], summary["class_names"]
    fig = F.saliency_grid(full, max_images=2)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[: 1 + len(methods)] == ["input", *methods]
    overlays = [t for t in fig.data if isinstance(t, go.Heatmap) and t.zmax == 1]
    assert len(overlays) == 2 * len(methods)
    step = full.array_steps(f"saliency/{methods[0]}")[-1]
    np.testing.assert_allclose(overlays[0].z, full.array(f"saliency/{methods[0]}", step)[0])
    assert any(isinstance(t, go.Contour) for t in fig.data)  # the object mask outline
    label, pred = summary["labels"][0], summary["predictions"][0]
    assert fig.layout.yaxis.title.text == f"{names[label]}→{names[pred]}"


def test_saliency_trust_bars_from_the_summary(full):
    trust = full.record(*SALIENCY)["trust"]
    fig = F.saliency_trust(full)
    spearman = next(t for t in fig.data if t.name.startswith("similarity"))
    assert list(spearman.x) == list(trust)
    np.testing.assert_allclose(spearman.y, [t["randomization_spearman"] for t in trust.values()])
    for tick, scores in zip(fig.layout.xaxis.ticktext, trust.values(), strict=True):
        assert ("✗" in tick) == (scores["reflects_model"] is False and not scores.get("note"))
        assert ("✓" in tick) == bool(scores["reflects_model"])


def test_receptive_field_growth_plots_sizes_and_jumps(full):
    rows = full.record(*RECEPTIVE_FIELD)["layers"]
    fig = F.receptive_field_growth(full)
    rf, jump = fig.data
    assert list(rf.y) == [max(r["rf"]) for r in rows]
    assert list(jump.y) == [max(r["jump"]) for r in rows]
    assert list(rf.y)[:2] == [3, 3] and max(rf.y) > 3  # a 3x3 conv first, growing after
    symbols = list(rf.marker.symbol)
    assert symbols == ["star" if r["global"] else "circle" for r in rows]
    assert symbols[-1] == "star"  # global average pooling: the head sees everything


def test_erf_maps_draw_init_and_final_with_the_theoretical_box(full):
    records = full.records(ERF_KIND)
    layer = records[0][0]
    theoretical = records[0][2]["theoretical_rf"]
    fig = F.erf_maps(full)
    assert len(fig.data) == 2
    np.testing.assert_allclose(fig.data[0].z, full.array(erf_array(layer, "init"), 0))
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 2 and rects[0].x1 - rects[0].x0 == pytest.approx(theoretical[1])
    assert fig.layout.shapes[1].type == "circle"
