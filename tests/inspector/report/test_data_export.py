"""JSON and CSV exports hold exactly the numbers in the store; Markdown holds the tables."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from inspector.report import build_markdown, export_data
from inspector.store import open_run
from inspector.store.records import ARCHITECTURE, FINDINGS, RECEPTIVE_FIELD, SALIENCY
from inspector.study.store import load_study


def same(a, b) -> bool:
    """Equal numbers, with None/NaN meaning 'not recorded' on either side."""
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    return a_missing == b_missing and (a_missing or float(a) == float(b))


@pytest.fixture(scope="module")
def json_doc(report_fixture) -> dict:
    text = export_data(
        [report_fixture.full, report_fixture.bare],
        study=report_fixture.study,
        fmt="json",
        root=report_fixture.root,
    )
    return json.loads(text)


def test_json_round_trips_scalars_layers_and_series(json_doc, report_fixture):
    assert json_doc["format"] == "inspector-report-data" and json_doc["version"] == 1
    runs = {r["id"]: r for r in json_doc["runs"]}
    assert set(runs) == {"full", "bare"}
    for run_id, doc in runs.items():
        reader = open_run(run_id, report_fixture.root)
        assert set(doc["scalars"]) == set(reader.scalar_names())
        for name, got in doc["scalars"].items():
            steps, values = reader.scalar(name)
            assert got["steps"] == steps.tolist()
            assert all(same(g, v) for g, v in zip(got["values"], values, strict=True))
        last = int(reader.steps()[-1])
        assert doc["last_step"] == last
        by_layer = {row["layer"]: row for row in doc["layers"]}
        assert set(by_layer) == {layer.name for layer in reader.layers()}
        for stat in reader.stat_names():
            for layer, value in reader.at_step(stat, last).items():
                assert same(by_layer[layer].get(stat), value), (run_id, layer, stat)
            series = doc["series"][stat]
            for layer, values in series["layers"].items():
                steps, expected = reader.layer_series(layer, stat)
                got = dict(zip(series["steps"], values, strict=True))
                for step, value in zip(steps.tolist(), expected, strict=True):
                    assert same(got[step], value), (run_id, layer, stat, step)
                recorded = {s for s, v in got.items() if v is not None}
                # null = not recorded, or recorded as NaN (e.g. no update before step 0)
                finite = {s for s, v in zip(steps.tolist(), expected, strict=True) if v == v}
                assert recorded == finite, (run_id, layer, stat)
        reader.close()


RANK = {"error": 0, "warning": 1, "info": 2}


def stored(report_fixture, run: str) -> tuple[dict, dict]:
    """(findings record, architecture record) of a fixture run, as the producers wrote them."""
    with open_run(run, report_fixture.root) as reader:
        return reader.record(*FINDINGS) or {}, reader.record(*ARCHITECTURE)


def test_json_holds_findings_records_and_study(json_doc, report_fixture):
    findings, table = stored(report_fixture, report_fixture.full)
    study = load_study(report_fixture.study, report_fixture.root)
    full = next(r for r in json_doc["runs"] if r["id"] == "full")
    expected = sorted((f["severity"] for f in findings["findings"]), key=RANK.__getitem__)
    assert [f["severity"] for f in full["findings"]] == expected  # worst first
    assert full["verdict"] == findings["verdict"]
    assert full["records"]["architecture"]["totals"]["params"] == table["totals"]["params"]
    assert len(full["records"]["erf"]) == 2  # at init and at the end
    with open_run(report_fixture.full, report_fixture.root) as reader:
        trust = reader.record(*SALIENCY)["trust"]
        model = reader.meta["model"]["name"]
    assert full["records"]["saliency"]["trust"] == trust
    assert full["meta"]["model"]["name"] == model
    bare = next(r for r in json_doc["runs"] if r["id"] == "bare")
    assert bare["findings"] == [] and bare["records"]["architecture"] is None
    doc = json_doc["study"]
    assert doc["id"] == study.id and len(doc["cells"]) == len(study.cells) == 4
    losses = [c["metrics"]["final_loss"] for c in study.cells[:2]]
    assert [row["final_loss"] for row in doc["table"][:2]] == losses


def test_csv_is_long_format_and_round_trips(report_fixture):
    text = export_data(
        [report_fixture.full], study=report_fixture.study, fmt="csv", root=report_fixture.root
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["run", "kind", "layer", "stat", "step", "value", "text"]
    kinds = {r["kind"] for r in rows}
    assert kinds == {"scalar", "module", "param", "finding", "study"}
    reader = open_run(report_fixture.full, report_fixture.root)
    stats = [r for r in rows if r["kind"] in ("module", "param")]
    expected = 0
    roles = {layer.name: layer.role for layer in reader.layers()}
    for stat in reader.stat_names():
        for layer in roles:
            steps, values = reader.layer_series(layer, stat)
            expected += int(np.isfinite(values).sum())
    assert len(stats) == expected
    for r in stats:
        steps, values = reader.layer_series(r["layer"], r["stat"])
        value = values[steps.tolist().index(int(r["step"]))]
        assert float(r["value"]) == value  # bit-exact: repr floats
        assert r["kind"] == roles[r["layer"]]
    for name in reader.scalar_names():
        steps, values = reader.scalar(name)
        got = [
            (int(r["step"]), float(r["value"]))
            for r in rows
            if r["kind"] == "scalar" and r["stat"] == name
        ]
        assert got == list(zip(steps.tolist(), values.tolist(), strict=True))
    findings = [r for r in rows if r["kind"] == "finding"]
    assert all(f["value"] == "" for f in findings)  # words never in the value column
    record, _ = stored(report_fixture, report_fixture.full)
    ordered = sorted(record["findings"], key=lambda f: RANK[f["severity"]])
    assert [(f["stat"], f["text"], f["layer"]) for f in findings] == [
        (f["rule"], f["severity"], ";".join(f["layers"])) for f in ordered
    ]
    cell = load_study(report_fixture.study, report_fixture.root).finished_cells()[0]
    study = [r for r in rows if r["kind"] == "study" and r["run"] == cell["run_id"]]
    words = {r["stat"]: r["text"] for r in study if r["text"]}
    assert all(r["value"] == "" for r in study if r["text"]) and words
    expected = {
        "config.depth": str(cell["config"]["depth"]),
        "final_loss": repr(cell["metrics"]["final_loss"]),  # bit-exact
        "findings.error": str(cell["metrics"]["findings"]["error"]),
    }
    assert expected.items() <= {r["stat"]: r["value"] for r in study}.items()
    reader.close()


def test_csv_loads_in_pandas_as_numbers_and_pivots(report_fixture):
    """The value column is numeric (findings and config words live in text), so pandas
    reads it as float and a pivot of statistics per step works."""
    import pandas as pd

    text = export_data(
        [report_fixture.full], study=report_fixture.study, fmt="csv", root=report_fixture.root
    )
    frame = pd.read_csv(io.StringIO(text))
    assert frame["value"].dtype == np.float64
    stats = frame[frame["kind"].isin(["module", "param"])]
    table = stats.pivot_table(index="step", columns=["layer", "stat"], values="value")
    reader = open_run(report_fixture.full, report_fixture.root)
    layer = reader.layers(role="module")[0].name
    steps, values = reader.layer_series(layer, "act_std")
    got = table[(layer, "act_std")].reindex(steps)
    np.testing.assert_array_equal(got.to_numpy(), values)
    scalars = frame[frame["kind"] == "scalar"].pivot_table(
        index="step", columns="stat", values="value"
    )
    assert "loss" in scalars.columns
    assert set(frame.loc[frame["kind"] == "finding", "text"]) == {"error", "warning"}
    reader.close()


def test_markdown_has_metadata_findings_layers_and_study(report_fixture):
    record, table = stored(report_fixture, report_fixture.full)
    md = build_markdown([report_fixture.full], root=report_fixture.root)
    assert md.startswith("# Inspector report: full")
    assert "| severity | rule | title | layers | fix |" in md
    rows = [line for line in md.splitlines() if line.startswith(("| error |", "| warning |"))]
    ordered = sorted(record["findings"], key=lambda f: RANK[f["severity"]])
    assert len(rows) == len(ordered)
    for row, finding in zip(rows, ordered, strict=True):  # worst first
        assert row.startswith(f"| {finding['severity']} | {finding['rule']} | ")
        assert row.endswith(f" | {', '.join(finding['layers'])} | {finding['fix']} |")
    assert "| name | type | output_shape | params | rf | jump |" in md
    with open_run(report_fixture.full, report_fixture.root) as reader:
        fields = {r["name"]: r for r in reader.record(*RECEPTIVE_FIELD)["layers"]}
        model = reader.meta["model"]["name"]
    conv = [r for r in table["rows"] if r["type"] == "Conv2d"][-1]
    field = fields[conv["name"]]
    assert (
        f"| {conv['name']} | Conv2d | {conv['output_shape']} | {conv['params']} | "
        f"{field['rf']} | {field['jump']} |"
    ) in md
    assert f"| model | {model} |" in md
    with open_run(report_fixture.bare, report_fixture.root) as reader:
        last = int(reader.steps()[-1])
    bare = build_markdown(report_fixture.bare, root=report_fixture.root)
    assert "_No diagnosis recorded" in bare
    assert f"Statistics at the last recorded step ({last})" in bare
    study = build_markdown(study=report_fixture.study, root=report_fixture.root)
    assert "| depth | skip | run | status | final_loss |" in study
    (pending,) = [
        c for c in load_study(report_fixture.study, report_fixture.root).cells if not c["run_id"]
    ]
    depth, skip = pending["config"]["depth"], pending["config"]["skip"]
    assert f"| {depth} | {skip} | - | pending |" in study


def test_export_rejects_unknown_format(report_fixture):
    from inspector.errors import InspectorError

    with pytest.raises(InspectorError, match="unknown report format 'xml'"):
        export_data(report_fixture.full, fmt="xml", root=report_fixture.root)


def test_reports_suggest_a_valid_diagnose_command(report_fixture):
    """A run without a diagnosis points at `inspector diagnose --run ID --runs-root ROOT`,
    which the real CLI parser accepts (and test_suggested_commands runs)."""
    import shlex

    from inspector.cli import build_parser
    from inspector.dashboard.commands import diagnose_command

    bare = open_run(report_fixture.bare, report_fixture.root)
    run_id, root = bare.id, bare.dir.parent.resolve()
    bare.close()
    md = build_markdown(report_fixture.bare, root=report_fixture.root)
    cmd = diagnose_command(root, run_id)
    assert f"`{cmd}`" in md
    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert args.run == run_id and Path(args.runs_root) == root
