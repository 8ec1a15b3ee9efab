"""Saliency: the probe images with each method's map laid over them, and the trust
scores that say whether a method reflects the model at all."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inspector.figures.access import latest_array
from inspector.figures.theme import OK, PALETTE, styled
from inspector.store.records import SALIENCY

OVERLAY = [[0.0, "rgba(255,60,0,0)"], [0.3, "rgba(255,120,0,0.35)"], [1.0, "rgba(255,230,0,0.95)"]]
NOT_MAPS = {"images", "masks"}


def saliency_summary(reader) -> dict | None:
    return reader.record(*SALIENCY)


def saliency_methods(reader) -> list[str]:
    summary = saliency_summary(reader) or {}
    stored = [n.split("/", 1)[1] for n in reader.array_names() if n.startswith("saliency/")]
    methods = [m for m in summary.get("methods", []) if m in stored]
    return methods + [m for m in stored if m not in methods and m not in NOT_MAPS]


def _grey(image: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W) in [0, 1]."""
    g = image.mean(axis=0) if image.ndim == 3 else image
    lo, hi = float(np.min(g)), float(np.max(g))
    return (g - lo) / (hi - lo) if hi > lo else np.zeros_like(g)


def saliency_grid(reader, max_images: int = 4) -> go.Figure | None:
    """Rows: probe images (label -> prediction); columns: the input, then each method's map
    over the greyscale image. Object masks (shapes data) are outlined on the input."""
    images = latest_array(reader, "saliency/images")
    stored = {m: latest_array(reader, f"saliency/{m}") for m in saliency_methods(reader)}
    maps = {m: np.asarray(got[1]) for m, got in stored.items() if got is not None}
    methods = list(maps)
    if images is None or not methods:
        return None
    step, imgs = images
    imgs = np.asarray(imgs, dtype=float)[:max_images]
    masks = latest_array(reader, "saliency/masks")
    summary = saliency_summary(reader) or {}
    names = summary.get("class_names") or []
    labels, preds = summary.get("labels") or [], summary.get("predictions") or []

    def cls(i: int | None) -> str:
        if i is None:
            return "?"
        return str(names[i]) if 0 <= i < len(names) else str(i)

    blank = blank_methods(reader)
    n, cols = len(imgs), len(methods) + 1
    fig = make_subplots(
        rows=n,
        cols=cols,
        horizontal_spacing=0.01,
        vertical_spacing=0.04,
        column_titles=["input"] + [f"{m} (blank)" if m in blank else m for m in methods],
    )
    for r in range(n):
        base = _grey(imgs[r])
        label = cls(labels[r] if r < len(labels) else None)
        pred = cls(preds[r] if r < len(preds) else None)
        fig.add_trace(
            go.Heatmap(
                z=base,
                colorscale="gray",
                showscale=False,
                hovertemplate=f"label {label} → predicted {pred}<extra></extra>",
            ),
            row=r + 1,
            col=1,
        )
        if masks is not None and r < len(masks[1]):
            fig.add_trace(
                go.Contour(
                    z=masks[1][r].astype(float),
                    showscale=False,
                    contours={"start": 0.5, "end": 0.5, "coloring": "lines"},
                    line={"color": "#00e5ff", "width": 2},
                    hoverinfo="skip",
                ),
                row=r + 1,
                col=1,
            )
        fig.update_yaxes(title_text=f"{label}→{pred}", row=r + 1, col=1)
        for c, method in enumerate(methods, start=2):
            fig.add_trace(
                go.Heatmap(z=base, colorscale="gray", showscale=False, hoverinfo="skip"),
                row=r + 1,
                col=c,
            )
            if r < len(maps[method]):
                fig.add_trace(
                    go.Heatmap(
                        z=maps[method][r],
                        colorscale=OVERLAY,
                        zmin=0,
                        zmax=1,
                        showscale=False,
                        hovertemplate=method + " %{z:.2f}<extra></extra>",
                    ),
                    row=r + 1,
                    col=c,
                )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor=None)
    title = f"Saliency maps at step {step}"
    if summary.get("target_layer"):
        title += f" (Grad-CAM layer {summary['target_layer']})"
    return styled(fig, title, height=max(260, 170 * n + 60), legend=False)


def verdict(scores: dict) -> str:
    """The tick label under a method: blank maps say so instead of a bare ✗."""
    if scores.get("note"):
        return "blank map (see note)"
    if scores.get("reflects_model") is None:
        return "not checked"
    return "✓ reflects model" if scores["reflects_model"] else "✗ may not reflect model"


def blank_methods(reader) -> dict[str, str]:
    """method -> why its maps are blank (constant), from the trust notes."""
    trust = (saliency_summary(reader) or {}).get("trust") or {}
    return {m: str(t["note"]) for m, t in trust.items() if isinstance(t, dict) and t.get("note")}


def saliency_trust(reader) -> go.Figure | None:
    """Per method: rank correlation with a randomised model's map (low = the map depends on
    the learned weights), share of saliency inside the object mask, pointing-game hits."""
    trust = (saliency_summary(reader) or {}).get("trust") or {}
    if not trust:
        return None
    methods = list(trust)
    metrics = [
        ("randomization_spearman", "similarity to randomised model (lower is better)"),
        ("mask_share", "saliency mass inside object mask"),
        ("pointing_hit_rate", "peak inside object (pointing game)"),
    ]
    fig = go.Figure()
    for i, (key, label) in enumerate(metrics):
        values = [trust[m].get(key) for m in methods]
        if all(v is None for v in values):
            continue
        text = [("—" if v is None else f"{v:.2f}") for v in values]
        fig.add_trace(
            go.Bar(
                x=methods,
                y=[np.nan if v is None else v for v in values],
                name=label,
                text=text,
                textposition="outside",
                marker={"color": PALETTE[i]},
            )
        )
    verdicts = [verdict(trust[m]) for m in methods]
    fig.update_xaxes(ticktext=[f"{m}<br>{v}" for m, v in zip(methods, verdicts)], tickvals=methods)
    fig.update_yaxes(
        range=[min(0, *[trust[m].get("randomization_spearman") or 0 for m in methods]) - 0.05, 1.15]
    )
    fig.add_hline(y=0, line={"color": OK, "width": 1})
    return styled(fig, "Can these maps be trusted?", height=400, barmode="group")
