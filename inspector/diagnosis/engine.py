"""Run every rule over a stored run, sort the findings, and sum up gradient flow in a line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspector.diagnosis.context import TINY, RunView
from inspector.diagnosis.finding import Finding, RuleId, Severity, sci, sort_findings
from inspector.diagnosis.rules import RULES
from inspector.diagnosis.rules.nonfinite import nonfinite_values
from inspector.diagnosis.thresholds import Thresholds
from inspector.store import RunReader

RECORD_KIND, RECORD_KEY = "findings", "all"


@dataclass
class Diagnosis:
    """The findings of one run (worst first) and a one-line verdict on gradient flow."""

    findings: list[Finding]
    verdict: str
    run_id: str | None = None
    run_dir: str | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def counts(self) -> dict[str, int]:
        return {str(s): sum(f.severity == s for f in self.findings) for s in Severity}

    def reaches(self, level: str | Severity) -> bool:
        """Whether any finding is at ``level`` or worse (for --fail-on)."""
        return any(f.severity >= Severity(str(level)) for f in self.findings)

    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]

    def by_rule(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]

    def to_dict(self) -> dict[str, Any]:
        """The "findings" record of docs/RECORDS.md (plus run id and counts)."""
        return {
            "verdict": self.verdict,
            "findings": [f.to_dict() for f in self.findings],
            "run_id": self.run_id,
            "counts": self.counts(),
        }

    def __str__(self) -> str:
        from inspector.diagnosis.text import format_diagnosis

        return format_diagnosis(self)


_UNKNOWN_FLOW = "gradient flow: unknown (fewer than two layers with recorded gradients)"


def _verdict(view: RunView, findings: list[Finding]) -> str:
    nonfinite = [f for f in findings if f.rule == RuleId.NONFINITE_VALUES]
    if nonfinite:
        f = nonfinite[0]
        where = f" in '{f.layers[0]}'" if f.layers else ""
        return f"gradient flow: broken by NaN/Inf from step {f.evidence['first_step']}{where}"
    p = view.gradient_profile
    vanishing = [f for f in findings if f.rule == RuleId.VANISHING_GRADIENTS]
    if p is None and not vanishing:
        return _UNKNOWN_FLOW
    if vanishing:
        if p is not None and "ratio" in vanishing[0].evidence:
            cause = (
                " (saturation)"
                if view.saturated
                else " (dead ReLU layer)"
                if view.blocking_dead_layers
                else ""
            )
            stuck = " while the loss stays at chance" if view.stuck_at_chance else ""
            what = (
                "no gradient reaches the first layers"
                if p.first_norm <= TINY * 1.0001
                else f"first layers get {sci(p.ratio)} of the last layers' gradient, norm "
                f"{sci(p.first_norm)}"
            )
            return f"gradient flow: vanishing{cause} ({what}{stuck})"
        return "gradient flow: vanishing (first layers' updates far below the rest)"
    exploding = [f for f in findings if f.rule == RuleId.EXPLODING_GRADIENTS]
    if exploding:
        ev = exploding[0].evidence
        what = (
            f"first layers get {sci(ev['ratio'])}x the last layers' gradient"
            if "ratio" in ev
            else f"gradient norm grew {sci(ev['growth'])}x"
        )
        return f"gradient flow: exploding ({what})"
    dead = [f for f in findings if f.rule == RuleId.DEAD_UNITS and f.severity == Severity.ERROR]
    if dead:
        return f"gradient flow: blocked by dead ReLU layer(s) {', '.join(dead[0].layers[:3])}"
    if p is None:
        return _UNKNOWN_FLOW
    return (
        f"gradient flow: healthy (first/last layer gradient ratio {sci(p.ratio)} over "
        f"{len(p.layers)} layers)"
    )


def diagnose_run(
    reader: RunReader | str, thresholds: Thresholds | None = None, root: str | None = None
) -> Diagnosis:
    """Apply every rule to a stored run (a ``RunReader``, run id or path)."""
    if not isinstance(reader, RunReader):
        from inspector.store import open_run

        reader = open_run(reader, root)
    th = thresholds or Thresholds()
    view = RunView(reader, th)
    findings: list[Finding] = list(nonfinite_values(view))
    if findings:  # after the first NaN every statistic is meaningless: judge what came before
        view = RunView(reader, th, until=int(findings[0].evidence["first_step"]))
    for rule in RULES:
        if rule is not nonfinite_values:
            findings.extend(rule(view))
    findings = sort_findings(findings)
    return Diagnosis(
        findings,
        _verdict(view, findings),
        run_id=reader.id,
        run_dir=str(reader.dir),
        thresholds=th.to_dict(),
    )


def store_findings(writer: Any, diagnosis: Diagnosis) -> None:
    """Write the diagnosis as record("findings", "all") through a ``RunWriter``."""
    writer.put_record(
        RECORD_KIND,
        RECORD_KEY,
        {
            "verdict": diagnosis.verdict,
            "findings": [f.to_dict() for f in diagnosis.findings],
            "counts": diagnosis.counts(),
            "thresholds": diagnosis.thresholds,
        },
    )


def load_findings(reader: RunReader) -> Diagnosis | None:
    """The diagnosis stored in a run, or None if it was never diagnosed."""
    value = reader.record(RECORD_KIND, RECORD_KEY)
    if not value:
        return None
    return Diagnosis(
        [Finding.from_dict(d) for d in value.get("findings", [])],
        value.get("verdict", ""),
        run_id=reader.id,
        run_dir=str(reader.dir),
        thresholds=value.get("thresholds", {}),
    )
