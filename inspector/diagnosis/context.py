"""What every rule reads from a run, computed once: layers in order, series, gradient profile.

Rules get a ``RunView``; it caches reader queries so that a dozen rules cost a handful of
SQL reads, and holds the shared judgements (the gradient profile, saturated layers) that
several rules refer to, so that their messages agree with each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from inspector.diagnosis.gradient_scale import TINY, edge_count, geo_mean
from inspector.diagnosis.thresholds import Thresholds
from inspector.store import Layer, RunReader, Series

__all__ = ["TINY", "GradientProfile", "RunView", "geo_mean", "nanmedian"]


@dataclass(frozen=True)
class GradientProfile:
    """Activation-gradient norms of the first vs the last layers (forward order)."""

    layers: list[str]  # module layers with grad_norm, forward order
    median_norms: np.ndarray  # per layer, median over recorded steps
    first: list[str]
    last: list[str]
    steps: np.ndarray
    ratios: np.ndarray  # per step: geometric-mean(first) / geometric-mean(last)

    @property
    def ratio(self) -> float:
        """Median over steps of the first/last ratio."""
        finite = self.ratios[np.isfinite(self.ratios)]
        return float(np.median(finite)) if finite.size else math.nan

    @property
    def first_norm(self) -> float:
        """Geometric mean of the first layers' median gradient norms (how small they get)."""
        return float(geo_mean(self.median_norms[: len(self.first)]))

    @property
    def last_norm(self) -> float:
        """Geometric mean of the last layers' median gradient norms (the reference)."""
        return float(geo_mean(self.median_norms[-len(self.last) :]))


@dataclass(frozen=True)
class LossLevel:
    """Where the training loss started and ended (window medians), and the loss of guessing."""

    first: float  # median of the first window of per-step losses
    last: float  # median of the last window
    window: int  # losses per window
    count: int  # finite losses in the run
    chance: float | None  # ln(number of classes) when the run says how many there are


@dataclass(frozen=True)
class Vanishing:
    """The vanishing-gradient judgement: how bad, and which criterion decided it."""

    severity: str  # "error" | "warning" (a Severity value; context stays import-light)
    # "ratio": first/last ratio below vanishing_error; "stuck": below vanishing_warn (error)
    # or vanishing_stuck (warning) with the loss at chance; "corroborated": below
    # vanishing_warn with saturation, a dead layer or lagging first-layer updates (or too
    # few weight layers to compare updates at all)
    reason: str


def nanmedian(values: np.ndarray, axis: int | None = None):
    """np.nanmedian without the all-NaN warning."""
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(values, axis=axis)


class RunView:
    """Cached, rule-friendly access to one stored run."""

    def __init__(self, reader: RunReader, thresholds: Thresholds, until: int | None = None) -> None:
        self.reader = reader
        self.th = thresholds
        self.until = until  # only steps before this one (e.g. before the first NaN)
        self._series: dict[tuple[str, str | None], Series] = {}

    def _keep(self, steps: np.ndarray) -> np.ndarray:
        if self.until is None:
            return np.ones(steps.shape, dtype=bool)
        return steps < self.until

    # -- basic queries ----------------------------------------------------------------------
    @cached_property
    def modules(self) -> list[Layer]:
        return self.reader.layers(role="module")

    @cached_property
    def params(self) -> list[Layer]:
        return self.reader.layers(role="param")

    @cached_property
    def module_by_name(self) -> dict[str, Layer]:
        return {m.name: m for m in self.modules}

    @cached_property
    def steps(self) -> np.ndarray:
        steps = self.reader.steps()
        return steps[self._keep(steps)]

    def series(self, stat: str, role: str | None = None) -> Series:
        key = (stat, role)
        if key not in self._series:
            s = self.reader.series(stat, role=role)
            keep = self._keep(s.steps)
            self._series[key] = Series(
                s.stat,
                s.steps[keep],
                s.layers,
                s.values[:, keep] if s.values.ndim == 2 else s.values,
            )
        return self._series[key]

    def scalar(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        steps, values = self.reader.scalar(name)
        keep = self._keep(steps)
        return steps[keep], values[keep]

    def layer_series(self, layer: str, stat: str) -> tuple[np.ndarray, np.ndarray]:
        steps, values = self.reader.layer_series(layer, stat)
        keep = self._keep(steps)
        return steps[keep], values[keep]

    def unit_activity(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        steps, bits = self.reader.unit_activity(layer)
        keep = self._keep(steps)
        return steps[keep], bits[keep]

    def window(self, series: Series, fraction: float | None = None) -> Series:
        """The last ``fraction`` of the series' steps (at least one)."""
        fraction = self.th.window if fraction is None else fraction
        n = series.steps.size
        if n == 0:
            return series
        k = max(1, int(math.ceil(n * fraction)))
        return Series(series.stat, series.steps[-k:], series.layers, series.values[:, -k:])

    # -- shared judgements ------------------------------------------------------------------
    @cached_property
    def gradient_profile(self) -> GradientProfile | None:
        """First vs last layers' activation-gradient norms, or None with < 2 layers."""
        s = self.series("grad_norm", role="module")
        keep = [i for i in range(len(s.layers)) if np.isfinite(s.values[i]).any()]
        if len(keep) < 2:
            return None
        values = s.values[keep]
        names = [s.layers[i] for i in keep]
        k = edge_count(len(names), self.th)
        first = geo_mean(values[:k], axis=0)
        last = geo_mean(values[-k:], axis=0)
        with np.errstate(all="ignore"):
            ratios = first / last
        return GradientProfile(
            names, nanmedian(values, axis=1), names[:k], names[-k:], s.steps, ratios
        )

    @cached_property
    def weight_update_ratios(self) -> dict[str, float]:
        """Median update-to-weight ratio of each trainable weight matrix/kernel (ndim >= 2)."""
        s = self.series("update_ratio", role="param")
        shapes = {p.name: p.info for p in self.params}
        out = {}
        for i, name in enumerate(s.layers):
            info = shapes.get(name, {})
            if len(info.get("shape", [])) < 2 or not info.get("trainable", True):
                continue
            # median over the steps that have a ratio (NaN where no earlier snapshot existed)
            value = nanmedian(s.values[i])
            if np.isfinite(value):
                out[name] = float(value)
        return out

    @cached_property
    def saturated(self) -> dict[str, float]:
        """Bounded-activation layers whose median saturated fraction reaches the threshold."""
        s = self.series("act_sat_frac", role="module")
        med = nanmedian(s.values, axis=1) if s.layers else np.zeros(0)
        return {
            name: float(v)
            for name, v in zip(s.layers, med, strict=True)
            if np.isfinite(v) and v >= self.th.saturation_frac
        }

    @cached_property
    def bounded_layers(self) -> list[str]:
        return [m.name for m in self.modules if m.info.get("bounds")]

    @cached_property
    def dead_shares(self) -> dict[str, tuple[float, np.ndarray]]:
        """ReLU layer -> (share of units never active over the window, window steps)."""
        out = {}
        for m in self.modules:
            if not m.info.get("can_die"):
                continue
            steps, bits = self.unit_activity(m.name)
            if bits.size:
                k = self._dead_window(len(steps))
                out[m.name] = (float(1.0 - bits[-k:].any(axis=0).mean()), steps[-k:])
                continue
            steps, values = self.layer_series(m.name, "dead_frac")
            ok = np.isfinite(values)
            steps, values = steps[ok], values[ok]
            if values.size:
                k = self._dead_window(len(steps))
                out[m.name] = (float(np.min(values[-k:])), steps[-k:])
        return out

    def _dead_window(self, n: int) -> int:
        """Steps in the dead-unit window: the last half of the run (or ``window``, if longer);
        a unit must stay silent that long to count as dead, not just unlucky in one batch."""
        return max(1, int(math.ceil(n * max(self.th.window, 0.5))))

    @cached_property
    def blocking_dead_layers(self) -> list[str]:
        """ReLU layers (almost) entirely dead: no gradient passes below them."""
        return [n for n, (share, _) in self.dead_shares.items() if share >= self.th.dead_error]

    @cached_property
    def update_share(self) -> tuple[float, list[str], np.ndarray, float] | None:
        """(max update ratio of the first weight layers / median of the rest, their names,
        their ratios, that median), or None with fewer than 3 weight layers."""
        ratios = self.weight_update_ratios
        names = list(ratios)
        if len(names) < 3:
            return None
        k = edge_count(len(names), self.th)
        first = np.array([ratios[n] for n in names[:k]])
        ref = float(np.median([ratios[n] for n in names[k:]]))
        if ref <= 0 or not np.isfinite(ref):
            return None
        return float(np.max(first)) / ref, names[:k], first, ref

    @cached_property
    def num_classes(self) -> int | None:
        """Number of classes of the run's data (harness runs store it), else None."""
        data = self.reader.meta.get("data")
        info = data.get("info") if isinstance(data, dict) else None
        n = info.get("num_classes") if isinstance(info, dict) else None
        return int(n) if isinstance(n, (int, float)) and n >= 2 else None

    @cached_property
    def loss_level(self) -> LossLevel | None:
        """First and last window medians of the training loss, None with too few losses.

        Per-step losses (``rec.step(loss=...)`` is stored every step whatever the recording
        schedule), so the windows do not depend on how densely statistics are recorded."""
        steps, loss = self.scalar("loss")
        loss = loss[np.isfinite(loss)]
        if loss.size < self.th.loss_min_steps:
            return None
        k = max(2, int(math.ceil(loss.size * self.th.window)))
        chance = math.log(self.num_classes) if self.num_classes else None
        return LossLevel(
            float(np.median(loss[:k])), float(np.median(loss[-k:])), k, int(loss.size), chance
        )

    @cached_property
    def stuck_at_chance(self) -> bool:
        """The loss ends where guessing puts it: within ``chance_margin`` of ln(classes), or
        (classes unknown) not below its start by ``loss_min_drop`` and not rising either."""
        lv = self.loss_level
        if lv is None:
            return False
        if lv.chance is not None:
            return abs(lv.last - lv.chance) <= self.th.chance_margin * lv.chance
        return (1 - self.th.loss_min_drop) * lv.first <= lv.last <= self.th.loss_diverge * lv.first

    @cached_property
    def vanishing_level(self) -> Vanishing | None:
        """Whether the activation-gradient norms show vanishing gradients, and how badly.

        Error: first/last ratio below ``vanishing_error``, or below ``vanishing_warn`` while
        the loss stays at chance. Warning: below ``vanishing_warn`` with corroboration (the
        first layers' updates lag too, or saturation / a dead layer is at work), or below
        ``vanishing_stuck`` while the loss stays at chance. A moderate shrink alone is often
        benign: a flatten -> linear layer with a large fan-in shrinks the backward norm
        ~sqrt(fan_out / 3 fan_in) under PyTorch's default init while every weight still
        updates normally and the loss falls."""
        p = self.gradient_profile
        th = self.th
        if p is None or not np.isfinite(p.ratio) or th.vanishing_warn <= 0:
            return None  # vanishing_warn=0 switches the activation-gradient criterion off
        if p.ratio >= max(th.vanishing_stuck, th.vanishing_warn, th.vanishing_error):
            return None
        if p.ratio < th.vanishing_error:
            return Vanishing("error", "ratio")
        stuck = self.stuck_at_chance
        if p.ratio < th.vanishing_warn:
            if stuck:
                return Vanishing("error", "stuck")
            share = self.update_share
            if (
                self.saturated
                or self.blocking_dead_layers
                or share is None
                or share[0] < th.vanishing_confirm
            ):
                return Vanishing("warning", "corroborated")
            return None
        return Vanishing("warning", "stuck") if stuck and p.ratio < th.vanishing_stuck else None

    @property
    def vanishing_by_norm(self) -> bool:
        """Whether the activation-gradient norms alone make a vanishing-gradient finding."""
        return self.vanishing_level is not None

    @cached_property
    def vanishing(self) -> bool:
        """Whether the vanishing-gradient rule fires (by norms or by lagging updates)."""
        share = self.update_share
        return self.vanishing_by_norm or (share is not None and share[0] < self.th.update_lag)

    def step_range(self, steps: np.ndarray) -> tuple[int, ...]:
        steps = np.asarray(steps)
        if steps.size == 0:
            return ()
        return (int(steps.min()), int(steps.max()))

    def param_module(self, param: str) -> str:
        for p in self.params:
            if p.name == param:
                return p.info.get("module", param.rpartition(".")[0])
        return param.rpartition(".")[0]
