"""Findings, severities, thresholds and the text table: plain data behaviour."""

from __future__ import annotations

import json

import pytest

from inspector.diagnosis import Diagnosis, Finding, Severity, Thresholds
from inspector.diagnosis.finding import sort_findings
from inspector.diagnosis.text import format_diagnosis
from inspector.errors import InspectorError


def test_severity_order_and_string_values():
    assert Severity.INFO < Severity.WARNING < Severity.ERROR
    assert Severity.ERROR >= "warning" and Severity.INFO <= "info"
    assert max([Severity.WARNING, Severity.ERROR, Severity.INFO]) == Severity.ERROR
    assert str(Severity.WARNING) == "warning" and Severity("error") is Severity.ERROR
    assert len({Severity.INFO, Severity.INFO}) == 1  # still hashable


def make(rule: str, severity: str, **kw) -> Finding:
    return Finding(rule=rule, severity=severity, title=rule, message="m", **kw)


def test_finding_round_trips_through_json():
    f = make(
        "vanishing_gradients",
        "error",
        layers=["0", "2"],
        steps=[0, 40],
        evidence={"ratio": 1.2e-5, "nan": float("nan")},
        fix="do x",
        view="gradient_flow",
    )
    d = json.loads(json.dumps(f.to_dict()))
    assert d == {
        "rule": "vanishing_gradients",
        "severity": "error",
        "title": "vanishing_gradients",
        "message": "m",
        "layers": ["0", "2"],
        "steps": [0, 40],
        "evidence": {"ratio": 1.2e-5, "nan": None},
        "fix": "do x",
        "view": "gradient_flow",
    }
    back = Finding.from_dict(d)
    assert back.severity is Severity.ERROR and back.layers == ("0", "2") and back.steps == (0, 40)
    with pytest.raises(ValueError):
        make("x", "fatal")


def test_sorting_and_diagnosis_helpers():
    fs = [make("a", "info"), make("b", "error"), make("c", "warning"), make("d", "error")]
    ordered = sort_findings(fs)
    assert [f.rule for f in ordered] == ["b", "d", "c", "a"]  # worst first, stable
    diag = Diagnosis(ordered, "gradient flow: healthy")
    assert diag.worst == Severity.ERROR
    assert diag.counts() == {"info": 1, "warning": 1, "error": 2}
    assert diag.reaches("warning") and diag.reaches("error")
    assert not Diagnosis([make("a", "info")], "v").reaches("warning")
    assert Diagnosis([], "v").worst is None


def test_text_table_lists_worst_first_and_the_verdict():
    diag = Diagnosis(
        sort_findings([make("low", "info"), make("high", "error", layers=["0"])]),
        "gradient flow: vanishing (x)",
    )
    text = format_diagnosis(diag, width=100)
    assert text.index("high") < text.index("low")
    assert text.rstrip().endswith("gradient flow: vanishing (x)")
    assert "ERROR" in text and "fix" not in text.split("\n")[0]
    assert "no findings" in format_diagnosis(Diagnosis([], "v"), width=80)


def test_thresholds_overrides_and_errors():
    th = Thresholds().with_overrides({"vanishing_warn": "1e-3", "bn_min_batch": 8})
    assert th.vanishing_warn == 1e-3 and th.bn_min_batch == 8 and isinstance(th.bn_min_batch, int)
    assert Thresholds().with_overrides({}) == Thresholds()
    with pytest.raises(InspectorError, match="unknown threshold"):
        Thresholds().with_overrides({"nope": 1})
    with pytest.raises(InspectorError, match="must be a number"):
        Thresholds().with_overrides({"vanishing_warn": "abc"})
    assert set(Thresholds().to_dict()) >= {"vanishing_warn", "saturation_frac", "dead_warn"}
