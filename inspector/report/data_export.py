"""The numbers behind a report, for other tools: JSON (nested) and CSV (one long table).

JSON: ``{"format": "inspector-report-data", "version": 1, "runs": [...], "study": ...}``; each
run holds ``meta``, ``summary``, ``verdict``, ``findings`` (worst first), ``scalars``
(name -> steps/values), ``last_step`` + ``layers`` (every stat of every layer at the last
recorded step), ``series`` (stat -> steps + one value list per layer, null = not recorded) and
the ``records`` architecture / receptive_field / erf / saliency. ``study`` is the study's
``to_dict()`` plus ``table`` (one flat row per cell).

CSV: one long-format file with columns ``run,kind,layer,stat,step,value,text``: ``value``
holds numbers only (empty when the entry is a word), so pandas reads it as float and
``pivot_table`` works; words go to ``text``. ``kind`` is ``scalar`` (layer empty),
``module`` / ``param`` (a per-layer statistic at a recorded step), ``finding`` (stat = rule,
layer = affected layers joined by ';', text = severity, step = first step named) or
``study`` (run = the cell's run, stat = a config axis as ``config.<axis>`` or a metric name;
step empty; numbers in value, words such as ``residual`` in text). Floats are written with
Python's repr, so they read back bit for bit.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from typing import Any

from inspector.report import run_data
from inspector.report.inputs import RunRef, open_inputs
from inspector.report.study_table import study_grid_rows
from inspector.store import RunReader
from inspector.store.catalog import summarize_run
from inspector.store.jsonsafe import to_json
from inspector.store.records import ERF_KIND, EXPORTED

FORMAT_NAME = "inspector-report-data"
FORMAT_VERSION = 1
CSV_COLUMNS = ["run", "kind", "layer", "stat", "step", "value", "text"]


def run_document(reader: RunReader) -> dict[str, Any]:
    verdict, findings = run_data.findings(reader)
    last_step, layers = run_data.layer_summaries(reader)
    records: dict[str, Any] = {name: reader.record(*key) for name, key in EXPORTED.items()}
    records["erf"] = [value for _, _, value in reader.records(ERF_KIND)]
    return {
        "id": reader.id,
        "meta": reader.meta,
        "summary": summarize_run(reader).to_dict(),
        "verdict": verdict,
        "findings": findings,
        "scalars": run_data.scalars(reader),
        "last_step": last_step,
        "layers": layers,
        "series": run_data.layer_series(reader),
        "records": records,
    }


def study_document(study: Any) -> dict[str, Any]:
    doc = (
        study.to_dict()
        if hasattr(study, "to_dict")
        else {
            k: getattr(study, k, None)
            for k in ("id", "kind", "axes", "settings", "headline", "cells")
        }
    )
    return {**doc, "table": study_grid_rows(study)}


def data_document(readers: list[RunReader], study: Any | None = None) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "generated": time.time(),
        "runs": [run_document(r) for r in readers],
        "study": study_document(study) if study is not None else None,
    }


def to_json_text(readers: list[RunReader], study: Any | None = None) -> str:
    return json.dumps(json.loads(to_json(data_document(readers, study))), indent=1)


def csv_rows(readers: list[RunReader], study: Any | None = None):
    """Yield the long-format rows (see module docstring), run by run."""
    for reader in readers:
        run = reader.id
        for name in reader.scalar_names():
            steps, values = reader.scalar(name)
            for step, value in zip(steps, values):
                yield [run, "scalar", "", name, int(step), _num(value), ""]
        roles = {layer.name: layer.role for layer in reader.layers()}
        for stat in reader.stat_names():
            series = reader.series(stat)
            for i, layer in enumerate(series.layers):
                for step, value in zip(series.steps, series.values[i]):
                    if value == value:  # NaN = not recorded at that step
                        role = roles.get(layer, "module")
                        yield [run, role, layer, stat, int(step), _num(value), ""]
        for f in run_data.findings(reader)[1]:
            finding_steps = f.get("steps") or [""]
            yield [
                run,
                "finding",
                ";".join(map(str, f.get("layers") or [])),
                f.get("rule"),
                finding_steps[0],
                "",
                f.get("severity"),
            ]
    if study is not None:
        for cell in study.cells:
            run = cell.get("run_id") or ""
            for key, value in (cell.get("config") or {}).items():
                yield [run, "study", "", f"config.{key}", "", *_value_text(value)]
            for key, value in (cell.get("metrics") or {}).items():
                if isinstance(value, dict):
                    for sub, v in value.items():
                        yield [run, "study", "", f"{key}.{sub}", "", *_value_text(v)]
                else:
                    yield [run, "study", "", key, "", *_value_text(value)]


def _value_text(value: Any) -> tuple[Any, str]:
    """(value, text) cells: numbers (bools as 0/1) in value, anything else as text."""
    if isinstance(value, bool):
        return int(value), ""
    if isinstance(value, int):
        return value, ""
    if isinstance(value, float):
        return _num(value), ""
    if value is None:
        return "", ""
    return "", value if isinstance(value, str) else json.dumps(value)


def _num(value: float) -> float | str:
    value = float(value)
    return "" if value != value else value


def to_csv_text(readers: list[RunReader], study: Any | None = None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(readers, study))
    return buf.getvalue()


def export_data(
    runs: list[RunRef] | RunRef | None = None,
    study: Any | None = None,
    fmt: str = "json",
    root: str | os.PathLike | None = None,
) -> str:
    """The report's numbers as JSON or CSV text (see the module docstring for the layout)."""
    from inspector.report.naming import ReportFormat, parse_format

    fmt = parse_format(fmt)
    with open_inputs(runs, study, root) as inputs:
        if fmt == ReportFormat.JSON:
            return to_json_text(inputs.readers, inputs.study)
        if fmt == ReportFormat.CSV:
            return to_csv_text(inputs.readers, inputs.study)
    raise ValueError(f"export_data writes json or csv, not {fmt}")
