"""The numbers of one run as plain Python: shared by the HTML, JSON, CSV and Markdown outputs.

Everything here comes from ``RunReader``; nothing is recomputed, so an export round-trips
the store exactly (floats kept as stored, missing values as ``None``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from inspector.store import RunReader
from inspector.store.records import FINDINGS
from inspector.store.stats import Showcase, showcase

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}

# Per-layer stats shown in the compact layer table of the Markdown report.
LAYER_TABLE_STATS = showcase(Showcase.LAYER_TABLE)


def clean(value: Any) -> Any:
    """NaN/inf -> None, numpy scalars -> Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def metadata_pairs(reader: RunReader) -> list[tuple[str, Any]]:
    """(label, value) rows describing a run: model, data, hparams, device, versions, status."""
    meta = reader.meta
    model_meta, data_meta = meta.get("model"), meta.get("data")
    model = model_meta if isinstance(model_meta, dict) else {}
    data = data_meta if isinstance(data_meta, dict) else {}
    steps = reader.steps(recorded_only=False)
    pairs: list[tuple[str, Any]] = [
        ("run", reader.id),
        ("name", meta.get("name")),
        ("status", reader.status),
        ("steps", int(steps[-1]) + 1 if len(steps) else 0),
        ("recorded steps", len(reader.steps())),
        ("model", model.get("name") or model.get("target") or model.get("class")),
        ("model class", ".".join(str(p) for p in (model.get("module"), model.get("class")) if p)),
        ("parameters", model.get("params")),
        ("trainable parameters", model.get("trainable_params")),
    ]
    if model.get("kwargs"):
        pairs.append(("model arguments", model["kwargs"]))
    if data:
        pairs.append(("data", data.get("name")))
        pairs.extend(
            (f"data {k}", v)
            for k, v in data.items()
            if k != "name" and not isinstance(v, (dict, list)) and v is not None
        )
    elif meta.get("data"):
        pairs.append(("data", meta.get("data")))
    hparams = meta.get("hparams") or {}
    pairs.extend((f"hparam {k}", v) for k, v in hparams.items() if v is not None)
    pairs.append(("device", meta.get("device")))
    env = meta.get("environment") or {}
    pairs.extend((f"version {k}", v) for k, v in env.items())
    for key in ("study", "command", "error"):
        if meta.get(key):
            pairs.append((key, meta[key]))
    for name in ("loss", "accuracy", "test_loss", "test_accuracy"):
        value = reader.last_scalar(name)
        if value is not None:
            pairs.append((f"final {name}", value))
    return [(k, v) for k, v in pairs if v not in (None, "", [])]


def findings(reader: RunReader) -> tuple[str | None, list[dict]]:
    """(verdict, findings worst first) from record('findings', 'all'); (None, []) if absent."""
    doc = reader.record(*FINDINGS)
    if not doc:
        return None, []
    items = [dict(f) for f in doc.get("findings") or []]
    items.sort(key=lambda f: SEVERITY_RANK.get(str(f.get("severity")), 3))
    return doc.get("verdict"), items


def has_findings(reader: RunReader) -> bool:
    return reader.record(*FINDINGS) is not None


def scalars(reader: RunReader) -> dict[str, dict[str, list]]:
    """name -> {'steps': [...], 'values': [...]} for every scalar."""
    out = {}
    for name in reader.scalar_names():
        steps, values = reader.scalar(name)
        out[name] = {"steps": [int(s) for s in steps], "values": [clean(float(v)) for v in values]}
    return out


def layer_series(reader: RunReader) -> dict[str, dict[str, Any]]:
    """stat -> {'steps': [...], 'layers': {layer: [value|None per step]}} (all recorded)."""
    out = {}
    for stat in reader.stat_names():
        series = reader.series(stat)
        out[stat] = {
            "steps": [int(s) for s in series.steps],
            "layers": {
                name: [clean(float(v)) for v in series.values[i]]
                for i, name in enumerate(series.layers)
            },
        }
    return out


def layer_summaries(reader: RunReader) -> tuple[int | None, list[dict]]:
    """(last recorded step, one row per layer: name, role, type + every stat at that step)."""
    steps = reader.steps()
    if not len(steps):
        return None, []
    last = int(steps[-1])
    rows = {
        layer.name: {"layer": layer.name, "role": layer.role, "type": layer.type}
        for layer in reader.layers()
    }
    for stat in reader.stat_names():
        for name, value in reader.at_step(stat, last).items():
            if name in rows:
                rows[name][stat] = clean(value)
    return last, list(rows.values())
