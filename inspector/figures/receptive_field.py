"""Receptive fields: the theoretical size and jump as depth grows, and the effective
receptive field (gradient mass on the input) at init and at the end of training."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inspector.figures.access import latest_array, short_names
from inspector.figures.theme import EXPLODING, OK, TEST, styled
from inspector.store.records import RECEPTIVE_FIELD

PHASES = ("init", "final")


SPATIAL = ("Conv", "Pool")


def spatial(doc: dict) -> bool:
    """A receptive field means something only with convolution or pooling layers."""
    return any(any(t in str(r.get("type", "")) for t in SPATIAL) for r in doc.get("layers") or [])


def receptive_field_applies(reader) -> bool | None:
    """None: no receptive-field record; False: the model has no conv/pool layer (an MLP:
    every unit sees the whole input); True: the view applies."""
    doc = reader.record(*RECEPTIVE_FIELD)
    if not doc or not doc.get("layers"):
        return None
    return spatial(doc)


def receptive_field_growth(reader) -> go.Figure | None:
    """Theoretical receptive-field size (pixels) and jump (effective stride) per layer."""
    doc = reader.record(*RECEPTIVE_FIELD)
    if not doc or not doc.get("layers") or not spatial(doc):
        return None
    rows = doc["layers"]
    names = short_names([str(r["name"]) for r in rows])
    rf = [max(r["rf"]) if isinstance(r.get("rf"), list) else r.get("rf") for r in rows]
    jump = [max(r["jump"]) if isinstance(r.get("jump"), list) else r.get("jump") for r in rows]
    hover = [
        f"{r['name']} ({r.get('type', '')})<br>rf {r.get('rf')}<br>jump {r.get('jump')}"
        + ("<br>global" if r.get("global") else "")
        for r in rows
    ]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=names,
            y=rf,
            name="receptive field (px)",
            mode="lines+markers",
            line={"color": OK, "width": 3},
            hovertext=hover,
            hoverinfo="text",
            marker={
                "size": [12 if r.get("global") else 7 for r in rows],
                "symbol": ["star" if r.get("global") else "circle" for r in rows],
            },
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=jump,
            name="jump (effective stride)",
            opacity=0.35,
            marker={"color": TEST},
            hoverinfo="skip",
        ),
        secondary_y=True,
    )
    size = doc.get("input_size")
    if size:
        fig.add_hline(
            y=max(size),
            line={"color": EXPLODING, "dash": "dash"},
            annotation_text=f"input {size[0]}×{size[-1]}",
            secondary_y=False,
        )
    fig.update_xaxes(
        title_text="layer (forward order)",
        tickangle=-45,
        categoryorder="array",
        categoryarray=names,
    )
    fig.update_yaxes(title_text="receptive field (pixels)", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(
        title_text="jump (pixels)",
        rangemode="tozero",
        secondary_y=True,
        showgrid=False,
        dtick=max(1, round(max((j or 1) for j in jump) / 4)),
    )
    return styled(fig, "Theoretical receptive field as depth grows", height=420, barmode="overlay")


def erf_layers(reader) -> list[str]:
    """Layers with stored effective-receptive-field maps."""
    out: list[str] = []
    for name in reader.array_names():
        if name.startswith("erf/") and name.count("/") >= 2:
            layer = name[4:].rsplit("/", 1)[0]
            if layer not in out:
                out.append(layer)
    return out


def _erf_record(reader, layer: str, phase: str) -> dict:
    for _, _, value in reader.records("erf"):
        if isinstance(value, dict) and value.get("layer") == layer and value.get("phase") == phase:
            return value
    return {}


def erf_maps(reader, layer: str | None = None) -> go.Figure | None:
    """ERF at init and at the end side by side, the theoretical receptive field drawn as a
    box and the radius holding most of the gradient mass as a circle."""
    layers = erf_layers(reader)
    if not layers:
        return None
    layer = layer if layer in layers else layers[-1]
    stored = [(p, latest_array(reader, f"erf/{layer}/{p}")) for p in PHASES]
    found = [(p, got[1]) for p, got in stored if got is not None]
    if not found:
        return None
    fig = make_subplots(
        rows=1,
        cols=len(found),
        horizontal_spacing=0.08,
        subplot_titles=[f"{p} (ERF)" for p, _ in found],
    )
    zmax = max(float(np.nanmax(m)) for _, m in found) or 1.0
    for c, (phase, raw) in enumerate(found, start=1):
        erf = np.asarray(raw, dtype=float)
        fig.add_trace(
            go.Heatmap(
                z=erf,
                colorscale="Viridis",
                zmin=0,
                zmax=zmax,
                showscale=c == len(found),
                colorbar={"title": {"text": "share"}},
                hovertemplate="x %{x} y %{y}<br>%{z:.2e}<extra></extra>",
            ),
            row=1,
            col=c,
        )
        rec = _erf_record(reader, layer, phase)
        h, w = erf.shape
        cy, cx = rec.get("center") or [(h - 1) / 2, (w - 1) / 2]
        xref, yref = ("x", "y") if c == 1 else (f"x{c}", f"y{c}")
        theo = rec.get("theoretical_rf")
        if theo:
            th, tw = theo if isinstance(theo, list) else (theo, theo)
            fig.add_shape(
                type="rect",
                xref=xref,
                yref=yref,
                x0=cx - tw / 2,
                x1=cx + tw / 2,
                y0=cy - th / 2,
                y1=cy + th / 2,
                line={"color": "#ff4136", "width": 2, "dash": "dash"},
            )
        radius = rec.get("erf_radius")
        if radius:
            fig.add_shape(
                type="circle",
                xref=xref,
                yref=yref,
                x0=cx - radius,
                x1=cx + radius,
                y0=cy - radius,
                y1=cy + radius,
                line={"color": "white", "width": 2},
            )
        fig.update_yaxes(autorange="reversed", scaleanchor=xref, constrain="domain", row=1, col=c)
        if rec:
            fig.layout.annotations[
                c - 1
            ].text = (
                f"{phase}: ERF size {rec.get('erf_size', float('nan')):.1f} vs theoretical {theo}"
            )
    fig.update_xaxes(constrain="domain")
    return styled(
        fig,
        f"{layer}: effective receptive field (dashed box = theoretical "
        "RF, circle = radius holding most gradient mass)",
        height=440,
        legend=False,
    )
