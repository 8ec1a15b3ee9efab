"""The statistics catalogue: every per-layer statistic the recorder stores, named once.

Torch-free, so the viewing side (figures, dashboard, reports, exports, diagnosis) reads titles,
units and axis types from here instead of copying string literals. The recorder's flush
takes the statistic names of a summary from ``summary_stat_names``; ``docs/STORE.md`` lists
the same names (a test checks both directions).

Adding a statistic: compute it in a probe, add its ``StatSpec`` here, and (optionally) draw
it in a figure; the reader, exports, compare view and docs test pick it up by name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Role(StrEnum):
    """What a statistic describes."""

    ACTIVATION = "activation"  # a module's output
    GRADIENT = "gradient"  # dLoss/d(module output)
    NORM_INPUT = "norm_input"  # a normalisation layer's input (pre-normalisation)
    BATCHNORM = "batchnorm"  # BatchNorm batch vs running statistics
    MODULE = "module"  # per-module facts (calls, dead units)
    PARAMETER = "parameter"  # weights, their updates and gradients


class Showcase(StrEnum):
    """Curated selections of statistics the views offer: named here, so no view lists
    statistic names itself and a new statistic joins a selection by its spec alone."""

    COMPARE = "compare"  # offered first when comparing runs (dashboard Compare)
    REPORT_COMPARE = "report_compare"  # drawn in a multi-run report's comparison section
    LAYER_TABLE = "layer_table"  # columns of the compact per-layer table (Markdown report)
    GRADIENT_HEATMAP = "gradient_heatmap"  # layer x step heatmap on the gradient-flow page
    FRACTIONS = "fractions"  # "stopped learning" shares over time (activations page, report)


@dataclass(frozen=True)
class StatSpec:
    """One statistic: its stored name and how to present it."""

    name: str
    role: Role
    title: str
    unit: str = ""  # "" = same unit as the tensor's values; "fraction", "count", "ratio"
    log_axis: bool = False  # spans decades: draw on a log axis / log colour scale
    fraction: bool = False  # in [0, 1]
    shown: frozenset[Showcase] = frozenset()  # curated selections it belongs to
    rank: int = 100  # order inside those selections (lower first)
    short: str = ""  # short label (a tab's name); the title when empty
    absent: str = ""  # why a run may lack it, for the view that finds none

    @property
    def label(self) -> str:
        """Axis label: title plus unit when it has one."""
        return f"{self.title} ({self.unit})" if self.unit and not self.fraction else self.title


@dataclass(frozen=True)
class HistogramSpec:
    """A stored histogram kind: which tensor it samples and on which bin scale."""

    kind: str
    role: Role
    title: str
    scale: str  # probes.bins scale: "value" (symlog of x) or "log_abs" (log10 |x|)


# summary kind (what the recorder summarises) -> statistic prefix
SUMMARY_PREFIX = {"act": "act", "grad": "grad", "norm_in": "in"}
PREFIX_ROLE = {"act": Role.ACTIVATION, "grad": Role.GRADIENT, "in": Role.NORM_INPUT}
PREFIX_NOUN = {"act": "activation", "grad": "activation gradient", "in": "norm-layer input"}

# moment statistics of every summarised tensor: suffix -> (title suffix, unit, log, fraction)
MOMENTS: dict[str, tuple[str, str, bool, bool]] = {
    "mean": ("mean", "", False, False),
    "std": ("std", "", True, False),
    "min": ("min", "", False, False),
    "max": ("max", "", False, False),
    "norm": ("L2 norm", "", True, False),
    "numel": ("elements", "count", False, False),
    "nan": ("NaN elements", "count", False, False),
    "inf": ("Inf elements", "count", False, False),
    "zero_frac": ("share of exact zeros", "fraction", False, True),
}


def summary_stat_names(prefix: str, with_saturation: bool = False) -> list[str]:
    """The statistic names one tensor summary produces (the flush writes exactly these)."""
    names = [f"{prefix}_{suffix}" for suffix in MOMENTS]
    return names + ([f"{prefix}_sat_frac"] if with_saturation else [])


_SHOWN_MOMENTS: dict[str, dict] = {  # the summary statistics that curated selections offer
    "grad_norm": {
        "shown": frozenset(
            {
                Showcase.COMPARE,
                Showcase.REPORT_COMPARE,
                Showcase.LAYER_TABLE,
                Showcase.GRADIENT_HEATMAP,
            }
        ),
        "rank": 1,
    },
    "act_std": {
        "shown": frozenset({Showcase.COMPARE, Showcase.REPORT_COMPARE, Showcase.LAYER_TABLE}),
        "rank": 3,
    },
    "act_zero_frac": {"shown": frozenset({Showcase.FRACTIONS}), "rank": 6, "short": "exact zeros"},
    "act_norm": {"shown": frozenset({Showcase.GRADIENT_HEATMAP}), "rank": 9},
}


def _moment_specs() -> list[StatSpec]:
    specs = []
    for prefix, role in PREFIX_ROLE.items():
        noun = PREFIX_NOUN[prefix]
        for suffix, (title, unit, log, fraction) in MOMENTS.items():
            name = f"{prefix}_{suffix}"
            spec = StatSpec(name, role, f"{noun} {title}", unit, log, fraction)
            specs.append(replace(spec, **_SHOWN_MOMENTS.get(name, {})))
    return specs


_OTHERS = [
    StatSpec(
        "act_sat_frac",
        Role.ACTIVATION,
        "saturated share (within 1% of the range from an asymptote)",
        "fraction",
        fraction=True,
        shown=frozenset({Showcase.COMPARE, Showcase.LAYER_TABLE, Showcase.FRACTIONS}),
        rank=4,
        short="saturated",
        absent="No bounded activations (tanh, sigmoid, hardtanh...) in this run: nothing "
        "saturates.",
    ),
    StatSpec("calls", Role.MODULE, "forward calls per step", "count"),
    StatSpec(
        "dead_frac",
        Role.MODULE,
        "dead units (no non-zero output in the batch)",
        "fraction",
        fraction=True,
        shown=frozenset({Showcase.COMPARE, Showcase.LAYER_TABLE, Showcase.FRACTIONS}),
        rank=5,
        short="dead units",
        absent="No ReLU layers in this run: no dead-unit fractions.",
    ),
    StatSpec(
        "bn_mean_gap", Role.BATCHNORM, "batch vs running mean gap", "running std", log_axis=True
    ),
    StatSpec(
        "bn_var_gap", Role.BATCHNORM, "batch vs running variance gap |log ratio|", "", log_axis=True
    ),
    StatSpec("bn_batch_size", Role.BATCHNORM, "BatchNorm batch size", "count"),
    StatSpec("bn_count_per_channel", Role.BATCHNORM, "values per channel", "count"),
    StatSpec(
        "w_norm",
        Role.PARAMETER,
        "weight L2 norm",
        log_axis=True,
        shown=frozenset({Showcase.LAYER_TABLE, Showcase.GRADIENT_HEATMAP}),
        rank=8,
    ),
    StatSpec(
        "update_ratio",
        Role.PARAMETER,
        "update / weight ratio ||dw|| / ||w||",
        "ratio",
        log_axis=True,
        shown=frozenset({Showcase.COMPARE, Showcase.LAYER_TABLE, Showcase.GRADIENT_HEATMAP}),
        rank=7,
    ),
    StatSpec(
        "g_norm",
        Role.PARAMETER,
        "parameter gradient L2 norm",
        log_axis=True,
        shown=frozenset({Showcase.COMPARE, Showcase.LAYER_TABLE, Showcase.GRADIENT_HEATMAP}),
        rank=2,
    ),
    StatSpec("g_nan", Role.PARAMETER, "parameter gradient NaN elements", "count"),
    StatSpec("g_inf", Role.PARAMETER, "parameter gradient Inf elements", "count"),
]

STATS: dict[str, StatSpec] = {s.name: s for s in (*_moment_specs(), *_OTHERS)}

HISTOGRAMS: dict[str, HistogramSpec] = {
    h.kind: h
    for h in (
        HistogramSpec("act", Role.ACTIVATION, "activation", "value"),
        HistogramSpec("norm_in", Role.NORM_INPUT, "norm-layer input", "value"),
        HistogramSpec("grad", Role.GRADIENT, "activation gradient", "log_abs"),
        HistogramSpec("param_grad", Role.PARAMETER, "parameter gradient", "log_abs"),
    )
}


def stat_spec(name: str) -> StatSpec:
    """The spec of ``name``; a statistic unknown to this version gets a plain generic spec."""
    found = STATS.get(name)
    if found is not None:
        return found
    return StatSpec(name, Role.MODULE, name.replace("_", " "))


def title(name: str) -> str:
    return stat_spec(name).title


def short_title(name: str) -> str:
    spec = stat_spec(name)
    return spec.short or spec.title


def absent_note(name: str) -> str:
    """What a view says when a run has none of ``name``."""
    spec = stat_spec(name)
    return spec.absent or f"No {spec.title} recorded for this run."


def showcase(which: Showcase) -> list[str]:
    """The statistics of one curated selection, in their rank order."""
    order = {name: i for i, name in enumerate(STATS)}
    chosen = [s for s in STATS.values() if which in s.shown]
    return [s.name for s in sorted(chosen, key=lambda s: (s.rank, order[s.name]))]


def log_axis(name: str) -> bool:
    return stat_spec(name).log_axis


def histogram_title(kind: str) -> str:
    spec = HISTOGRAMS.get(kind)
    return spec.title if spec else kind.replace("_", " ")
