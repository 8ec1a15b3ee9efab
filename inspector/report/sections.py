"""The sections of one run's report, drawn with the dashboard's figure builders.

Each function returns a ``Section``; a run that lacks the data of a section gets a one-line
note in it instead of a chart, so every report has the same outline.
"""

from __future__ import annotations

import numpy as np

from inspector import figures as figs
from inspector.dashboard.commands import diagnose_command
from inspector.report import run_data
from inspector.report.html_parts import (
    Section,
    draw,
    heading,
    key_value_table,
    note,
    paragraph,
    table_html,
)
from inspector.store import RunReader
from inspector.store.records import ARCHITECTURE, RECEPTIVE_FIELD, SALIENCY
from inspector.store.stats import Showcase, absent_note, showcase

MAX_LAYER_CHARTS = 4  # per-layer charts per section (first, last and evenly in between)


def run_sections(reader: RunReader, prefix: str = "") -> list[Section]:
    """Every section of one run, in reading order; ``prefix`` keeps ids unique per run."""
    builders = [
        metadata,
        architecture,
        findings,
        loss_accuracy,
        gradient_flow,
        activations,
        batchnorm,
        kernels,
        saliency,
        receptive_field,
    ]
    out = []
    for build in builders:
        section = build(reader)
        section.id = f"{prefix}{section.id}"
        out.append(section)
    return out


def metadata(reader: RunReader) -> Section:
    s = Section("metadata", "Run metadata")
    s.add(key_value_table(run_data.metadata_pairs(reader)))
    return s


def architecture(reader: RunReader) -> Section:
    s = Section("architecture", "Architecture")
    rows = figs.architecture_rows(reader)
    if not rows:
        s.add(note("No architecture table or parameters recorded for this run."))
        return s
    doc = reader.record(*ARCHITECTURE) or {}
    totals = doc.get("totals") or {}
    if totals:
        s.add(
            paragraph(
                ", ".join(
                    f"{k.replace('_', ' ')}: {v}"
                    for k, v in totals.items()
                    if not isinstance(v, (list, dict))
                )
            )
        )
    if doc.get("input_shape"):
        s.add(paragraph(f"Input shape: {'×'.join(map(str, doc['input_shape']))}"))
    rf = reader.record(*RECEPTIVE_FIELD) or {}
    by_name = {r.get("name"): r for r in rf.get("layers") or []}
    if by_name:  # without the record the Receptive field section says so
        rows = [{**row, **_rf_columns(by_name.get(row.get("layer")))} for row in rows]
    s.add(table_html(rows))
    return s


def _rf_columns(rf: dict | None) -> dict:
    if not rf:
        return {"receptive field": None, "jump": None}
    size = "global" if rf.get("global") else "×".join(map(str, rf.get("rf") or []))
    return {"receptive field": size, "jump": "×".join(map(str, rf.get("jump") or []))}


def findings(reader: RunReader) -> Section:
    s = Section("findings", "Diagnosis")
    if not run_data.has_findings(reader):
        cmd = diagnose_command(reader.dir.parent.resolve(), reader.id)
        s.add(note(f"No diagnosis recorded for this run (run `{cmd}` to add it)."))
        return s
    verdict, items = run_data.findings(reader)
    if verdict:
        s.add(paragraph(f"Verdict: {verdict}", cls="verdict"))
    if not items:
        s.add(note("No findings: nothing suspicious in the recorded statistics."))
        return s
    rows = [_plain_finding(row) for row in figs.findings_rows(reader)]
    rows.sort(key=lambda r: run_data.SEVERITY_RANK.get(str(r.get("severity")), 3))
    s.add(table_html(rows, scroll=False))
    return s


def _plain_finding(row: dict) -> dict:
    """The dashboard's row without its icon (no emoji font in every browser) or view link."""
    row = {k: v for k, v in row.items() if k != "view"}
    row["severity"] = str(row.get("severity", "")).split(" ")[-1]
    return row


def loss_accuracy(reader: RunReader) -> Section:
    s = Section("loss", "Loss and accuracy")
    s.add(draw(figs.loss_accuracy, reader, missing="No loss or accuracy recorded for this run."))
    return s


def gradient_flow(reader: RunReader) -> Section:
    s = Section("gradients", "Gradient flow")
    missing = "No gradient statistics recorded for this run."
    s.add(draw(figs.gradient_norms_by_layer, reader, kind="act", missing=missing))
    s.add(draw(figs.gradient_norms_by_layer, reader, kind="param"))
    s.add(draw(figs.gradient_heatmap, reader))
    return s


def activations(reader: RunReader) -> Section:
    s = Section("activations", "Activations: histograms and saturation")
    layers = pick(_layers_with_hist(reader, "act"))
    if not layers:
        s.add(note("No activation histograms recorded for this run."))
    for layer in layers:
        s.add(heading(f"Layer {layer}", 3))
        s.add(draw(figs.activation_histogram_heatmap, reader, layer, kind="act"))
        s.add(draw(figs.activation_moments, reader, layer))
    for stat in showcase(Showcase.FRACTIONS):  # the dashboard's activations page shows the same
        s.add(draw(figs.activation_fractions, reader, stat=stat, missing=absent_note(stat)))
    return s


def batchnorm(reader: RunReader) -> Section:
    s = Section("batchnorm", "BatchNorm")
    bn = [layer.name for layer in reader.layers("module") if "BatchNorm" in layer.type]
    if not bn:
        s.add(note("No BatchNorm layers in this run."))
        return s
    s.add(draw(figs.bn_gaps, reader))
    for layer in pick(bn):
        s.add(draw(figs.bn_pre_post, reader, layer))
    return s


def kernels(reader: RunReader) -> Section:
    s = Section("kernels", "Learned kernels")
    names = [n for n in reader.array_names() if n.startswith("kernels/")]
    if not names:
        s.add(note("No kernel snapshots recorded for this run (no conv layers, or not saved)."))
        return s
    for name in names[:2]:
        layer = name.removeprefix("kernels/")
        steps = reader.array_steps(name)
        for step in sorted({steps[0], steps[-1]}):
            s.add(heading(f"{layer} at step {step}", 3))
            s.add(draw(figs.kernel_grid, reader, layer=layer, step=step))
    return s


def saliency(reader: RunReader) -> Section:
    s = Section("saliency", "Saliency and trust")
    summary = reader.record(*SALIENCY)
    if summary is None and not any(n.startswith("saliency/") for n in reader.array_names()):
        s.add(note("No saliency maps recorded for this run."))
        return s
    s.add(draw(figs.saliency_grid, reader, max_images=4))
    s.add(draw(figs.saliency_trust, reader))
    trust = (summary or {}).get("trust") or {}
    if trust:
        s.add(heading("Trust scores", 3))
        s.add(table_html([{"method": m, **scores} for m, scores in trust.items()]))
    return s


def receptive_field(reader: RunReader) -> Section:
    s = Section("receptive-field", "Receptive field")
    missing = "No receptive-field table recorded for this run."
    s.add(draw(figs.receptive_field_growth, reader, missing=missing))
    erf = [value for _, _, value in reader.records("erf")]
    if not erf:
        s.add(note("No effective receptive field maps recorded for this run."))
        return s
    for layer in pick(list(dict.fromkeys(str(r.get("layer")) for r in erf)), k=3):
        s.add(draw(figs.erf_maps, reader, layer=layer))
    columns = ["layer", "phase", "theoretical_rf", "erf_size", "erf_radius", "mass_share"]
    s.add(table_html([{k: r.get(k) for k in columns} for r in erf]))
    return s


def _layers_with_hist(reader: RunReader, kind: str) -> list[str]:
    return [
        layer.name for layer in reader.layers("module") if kind in reader.hist_kinds(layer.name)
    ]


def pick(names: list[str], k: int = MAX_LAYER_CHARTS) -> list[str]:
    """At most k names, first and last included, evenly spaced: depth at a glance."""
    if len(names) <= k:
        return list(names)
    idx = np.unique(np.linspace(0, len(names) - 1, k).round().astype(int))
    return [names[i] for i in idx]
