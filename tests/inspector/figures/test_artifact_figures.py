"""Kernels, saliency and receptive-field builders on stored arrays and records."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from inspector import figures as F
from inspector.figures.kernels import _mosaic
from inspector.store import RunWriter, open_run


@pytest.mark.parametrize(
    "name", ["kernel_grid", "saliency_grid", "saliency_trust", "receptive_field_growth", "erf_maps"]
)
def test_artifact_builders_draw_the_full_run_and_skip_the_bare_one(full, bare, name):
    fig = getattr(F, name)(full)
    assert isinstance(fig, go.Figure) and fig.data
    fig.to_json()
    assert getattr(F, name)(bare) is None


def test_kernel_grid_picks_the_nearest_snapshot(full):
    steps = full.array_steps("kernels/0")
    assert steps == [0, 3, 5]
    fig = F.kernel_grid(full, "0", step=2)
    assert "step 3" in fig.layout.title.text
    weights = full.array("kernels/0", 3)
    z = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_allclose(z[:3, :3], weights[0, 0])  # first tile = first filter
    peak = max(np.abs(full.array("kernels/0", s)).max() for s in full.array_steps("kernels/0"))
    assert fig.data[0].zmax == pytest.approx(peak)  # one scale for every snapshot
    for step in full.array_steps("kernels/0"):
        other = F.kernel_grid(full, "0", step)
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
    fig = F.saliency_grid(full, max_images=2)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == ["input", "saliency", "gradcam"]
    overlays = [t for t in fig.data if isinstance(t, go.Heatmap) and t.zmax == 1]
    assert len(overlays) == 2 * 2
    np.testing.assert_allclose(overlays[0].z, full.array("saliency/saliency", 5)[0])
    assert any(isinstance(t, go.Contour) for t in fig.data)  # the object mask outline
    assert fig.layout.yaxis.title.text == "circle→circle"


def test_saliency_trust_bars_from_the_summary(full):
    fig = F.saliency_trust(full)
    spearman = next(t for t in fig.data if t.name.startswith("similarity"))
    assert list(spearman.x) == ["saliency", "gradcam"]
    np.testing.assert_allclose(spearman.y, [0.12, 0.85])
    assert "✗" in fig.layout.xaxis.ticktext[1]


def test_receptive_field_growth_plots_sizes_and_jumps(full):
    fig = F.receptive_field_growth(full)
    rf, jump = fig.data
    assert list(rf.y) == [3, 5, 6, 12] and list(jump.y) == [1, 1, 2, 2]
    assert list(rf.marker.symbol)[-1] == "star"  # global layer


def test_erf_maps_draw_init_and_final_with_the_theoretical_box(full):
    fig = F.erf_maps(full)
    assert len(fig.data) == 2
    np.testing.assert_allclose(fig.data[0].z, full.array("erf/3/init", 0))
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 2 and rects[0].x1 - rects[0].x0 == 5
    assert fig.layout.shapes[1].type == "circle"
