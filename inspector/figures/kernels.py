"""Learned convolution kernels as a grid of small tiles, one figure per snapshot step.

All tiles are drawn as one mosaic image (one trace), so 64 filters stay fast to render."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from inspector.figures.access import array_names, latest_array
from inspector.figures.theme import DIVERGING, styled

PREFIX = "kernels/"
MAX_OUT = 64  # filters shown
MAX_IN = 16  # input channels shown per filter (multi-channel layers)


def kernel_layers(reader) -> list[str]:
    """Conv layers that have kernel snapshots, in stored order."""
    return [n[len(PREFIX) :] for n in array_names(reader, PREFIX)]


def kernel_steps(reader, layer: str) -> list[int]:
    return reader.array_steps(PREFIX + layer)


def scale_limit(reader, layer: str) -> float:
    """max |w| over every snapshot of ``layer``: one colour scale for the whole slider, so a
    filter that grows or fades shows it instead of being rescaled per snapshot."""
    peaks = [
        float(np.nanmax(np.abs(np.asarray(reader.array(PREFIX + layer, s), dtype=float))))
        for s in kernel_steps(reader, layer)
    ]
    finite = [p for p in peaks if np.isfinite(p) and p > 0]
    return max(finite, default=0.0)


def _mosaic(tiles: np.ndarray, cols: int, pad: int = 1) -> np.ndarray:
    """Place (n, h, w[, 3]) tiles in a grid with NaN (or white) gaps."""
    n, h, w = tiles.shape[:3]
    rows = -(-n // cols)
    extra = tiles.shape[3:]
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, *extra), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = tiles[i]
    return out


def kernel_grid(reader, layer: str | None = None, step: int | None = None) -> go.Figure | None:
    """Filters of ``layer`` (first conv with snapshots when None) at ``step`` (nearest
    snapshot; latest when None). RGB-input layers show colour filters; single-channel
    layers one tile per filter; other layers a filters x input-channels grid."""
    layers = kernel_layers(reader)
    if not layers:
        return None
    layer = layer if layer in layers else layers[0]
    found = latest_array(reader, PREFIX + layer, step)
    if found is None:
        return None
    chosen, w = found
    w = np.asarray(w, dtype=float)
    if w.ndim == 3:
        w = w[:, None]
    if w.ndim != 4:
        return None
    out_c, in_c, kh, kw = w.shape
    w = w[:MAX_OUT]
    limit = scale_limit(reader, layer) or float(np.nanmax(np.abs(w))) or 1.0
    if in_c == 3:
        scaled = (w.transpose(0, 2, 3, 1) / limit + 1.0) / 2.0  # [-limit, limit] -> [0, 1]
        cols = int(np.ceil(np.sqrt(len(w))))
        img = _mosaic(scaled, cols)
        img = np.where(np.isnan(img), 1.0, img)
        trace = go.Image(z=(img * 255).astype(np.uint8), hoverinfo="skip")
        layout = "filters, RGB (grey = 0)"
    elif in_c == 1:
        cols = int(np.ceil(np.sqrt(len(w))))
        trace = _heatmap(_mosaic(w[:, 0], cols), limit)
        layout = "filters"
    else:
        tiles = w[:16, :MAX_IN]
        grid = tiles.reshape(-1, kh, kw)
        trace = _heatmap(_mosaic(grid, tiles.shape[1]), limit)
        layout = f"rows: first {tiles.shape[0]} of {out_c} filters, cols: input channels"
    fig = go.Figure(trace)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, scaleanchor="x", autorange="reversed")
    title = (
        f"{layer} kernels at step {chosen} ({out_c}×{in_c}×{kh}×{kw}; {layout}; "
        f"colour scale ±{limit:.3g}, fixed over all snapshots)"
    )
    return styled(fig, title, height=460, legend=False)


def _heatmap(z: np.ndarray, limit: float) -> go.Heatmap:
    return go.Heatmap(
        z=z,
        zmin=-limit,
        zmax=limit,
        colorscale=DIVERGING,
        colorbar={"title": {"text": "weight"}},
        hovertemplate="%{z:.3g}<extra></extra>",
    )
