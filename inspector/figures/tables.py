"""Rows for tables (dashboard dataframes, report tables): architecture, findings, runs."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any

from inspector.figures.theme import SEVERITY_ORDER
from inspector.store.records import ARCHITECTURE, FINDINGS

SEVERITY_ICON = {
    "error": ":red[:material/error:]",
    "warning": ":orange[:material/warning:]",
    "info": ":blue[:material/info:]",
}  # Streamlit markdown icons


def architecture_rows(reader) -> list[dict]:
    """One row per layer from the 'architecture' record; without that record, parameter
    counts per module from the recorded parameter layers. [] when neither exists."""
    doc = reader.record(*ARCHITECTURE)
    if doc and doc.get("rows"):
        return [
            {
                "layer": r.get("name"),
                "type": r.get("type"),
                "output shape": "×".join(str(d) for d in r.get("output_shape") or []) or "-",
                "params": r.get("params", 0),
                "trainable": r.get("trainable", 0),
                "frozen": r.get("frozen", 0),
                "mult-adds": r.get("mult_adds"),
                "shared": bool(r.get("shared")) or (r.get("calls") or 1) > 1,
                "tied with": ", ".join(r.get("tied_with") or []),
            }
            for r in doc["rows"]
        ]
    modules: OrderedDict[str, dict] = OrderedDict()
    types = {lay.name: lay.type for lay in reader.layers(role="module")}
    for lay in reader.layers(role="param"):
        module = lay.info.get("module", lay.name.rpartition(".")[0])
        row = modules.setdefault(
            module,
            {
                "layer": module,
                "type": types.get(module, "?"),
                "params": 0,
                "trainable": 0,
                "frozen": 0,
            },
        )
        numel = int(lay.info.get("numel", 0))
        row["params"] += numel
        row["trainable" if lay.info.get("trainable", True) else "frozen"] += numel
    return list(modules.values())


def architecture_totals(reader) -> dict:
    doc = reader.record(*ARCHITECTURE) or {}
    return doc.get("totals") or {}


def findings(reader) -> tuple[str | None, list[dict]]:
    """(verdict, findings worst first) from the 'findings' record; (None, []) if absent."""
    doc = reader.record(*FINDINGS)
    if not doc:
        return None, []
    items = list(doc.get("findings") or [])
    items.sort(key=lambda f: SEVERITY_ORDER.get(str(f.get("severity")), 3))
    return doc.get("verdict"), items


def findings_rows(reader) -> list[dict]:
    """One row per finding, errors first, each naming the view that shows its evidence."""
    _, items = findings(reader)
    return [
        {
            "severity": str(f.get("severity", "info")),
            "finding": f.get("title") or f.get("rule"),
            "message": f.get("message", ""),
            "layers": _compact(f.get("layers") or [], 6),
            "steps": _compact(f.get("steps") or [], 4),
            "evidence": _evidence(f.get("evidence")),
            "fix": f.get("fix", ""),
            "view": f.get("view") or "overview",
            "rule": f.get("rule", ""),
        }
        for f in items
    ]


def run_rows(summaries: list[Any]) -> list[dict]:
    """One row per run (RunSummary objects or their dicts), newest first."""
    rows: list[dict[str, Any]] = []
    for s in summaries:
        d = s if isinstance(s, dict) else s.to_dict()
        rows.append(
            {
                "run": d.get("id"),
                "status": d.get("status"),
                "model": d.get("model"),
                "data": d.get("data"),
                "steps": d.get("steps"),
                "loss": _round(d.get("final_loss")),
                "accuracy": _round(d.get("final_accuracy")),
                "test accuracy": _round(d.get("test_accuracy")),
                "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(d.get("created") or 0)),
                "study": d.get("study") or "",
                "path": d.get("path"),
            }
        )
    rows.sort(key=lambda r: r["created"], reverse=True)
    return rows


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _compact(items: list, limit: int) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" (+{len(items) - limit})" if len(items) > limit else "")


def _evidence(evidence: Any) -> str:
    if not isinstance(evidence, dict):
        return "" if evidence is None else str(evidence)
    parts = []
    for k, v in evidence.items():
        if isinstance(v, float):
            v = f"{v:.3g}"
        elif isinstance(v, list | dict):
            v = json.dumps(v)[:60]
        parts.append(f"{k}={v}")
    return ", ".join(parts)
