"""What a diagnosis says: findings with a severity, evidence, a fix and where to look.

A ``Finding`` is plain data (JSON-able via ``to_dict``) so that the CLI, the dashboard and the
HTML report can show the same thing; the format is the "findings" record of docs/RECORDS.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_RANK = {"info": 0, "warning": 1, "error": 2}


class Severity(StrEnum):
    """How bad a finding is; ordered info < warning < error."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self.value]

    def _other(self, other: object) -> int:
        return Severity(str(other)).rank

    def __lt__(self, other: object) -> bool:
        return self.rank < self._other(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= self._other(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > self._other(other)

    def __ge__(self, other: object) -> bool:
        return self.rank >= self._other(other)

    __hash__ = StrEnum.__hash__


class RuleId(StrEnum):
    """Every diagnosis rule's id, named once (stored in findings as the plain string)."""

    VANISHING_GRADIENTS = "vanishing_gradients"
    EXPLODING_GRADIENTS = "exploding_gradients"
    NONFINITE_VALUES = "nonfinite_values"
    SATURATION = "saturation"
    DEAD_UNITS = "dead_units"
    BATCHNORM_MISMATCH = "batchnorm_mismatch"
    BATCHNORM_SMALL_BATCH = "batchnorm_small_batch"
    LEARNING_RATE_HIGH = "learning_rate_high"
    LEARNING_RATE_LOW = "learning_rate_low"
    NO_GRADIENT = "no_gradient"
    FROZEN_PARAMETERS = "frozen_parameters"
    SHARED_MODULES = "shared_modules"
    LOSS_NOT_DECREASING = "loss_not_decreasing"
    LOSS_DIVERGING = "loss_diverging"
    LOSS_SPIKE = "loss_spike"
    GENERALISATION_GAP = "generalisation_gap"


class View(StrEnum):
    """Dashboard views that show a finding's evidence (docs/RECORDS.md)."""

    OVERVIEW = "overview"
    GRADIENT_FLOW = "gradient_flow"
    ACTIVATIONS = "activations"
    BATCHNORM = "batchnorm"
    KERNELS = "kernels"
    SALIENCY = "saliency"
    RECEPTIVE_FIELD = "receptive_field"


def _plain(value: Any) -> Any:
    """Evidence values as JSON-friendly Python numbers (NaN/inf become None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


@dataclass(frozen=True)
class Finding:
    """One problem (or notable fact) found in a run, with the numbers that show it."""

    rule: str
    severity: Severity
    title: str
    message: str
    layers: tuple[str, ...] = ()
    steps: tuple[int, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    fix: str = ""
    view: str = View.OVERVIEW

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(str(self.severity)))
        object.__setattr__(self, "layers", tuple(str(x) for x in self.layers))
        object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "title": self.title,
            "message": self.message,
            "layers": list(self.layers),
            "steps": list(self.steps),
            "evidence": _plain(self.evidence),
            "fix": self.fix,
            "view": str(self.view),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(
            rule=d["rule"],
            severity=Severity(d["severity"]),
            title=d.get("title", ""),
            message=d.get("message", ""),
            layers=tuple(d.get("layers") or ()),
            steps=tuple(d.get("steps") or ()),
            evidence=dict(d.get("evidence") or {}),
            fix=d.get("fix", ""),
            view=d.get("view", View.OVERVIEW),
        )


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Worst first; ties keep the rule order in which they were produced."""
    return sorted(findings, key=lambda f: -f.severity.rank)


def layer_list(names: list[str] | tuple[str, ...], limit: int = 6) -> str:
    """'a, b, c and 4 more' for messages."""
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} and {len(names) - limit} more"


def sci(x: float | None) -> str:
    """Compact number for messages: 1.2e-05, 0.034, 12.3 ("None" for a missing value)."""
    if x is None or not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) < 1e-2 or abs(x) >= 1e4:
        return f"{x:.1e}"
    return f"{x:.3g}"
