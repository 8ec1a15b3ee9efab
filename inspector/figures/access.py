"""Small helpers over a RunReader shared by the builders: latest records, array steps,
stat roles, display thinning. Pure numpy; never raise for data a run simply lacks."""

from __future__ import annotations

import numpy as np

from inspector.figures.theme import MAX_COLUMNS
from inspector.store.stats import STATS, Role

PARAM_STATS = frozenset(n for n, spec in STATS.items() if spec.role is Role.PARAMETER)
# Statistics whose values span decades: drawn on a log axis (the catalogue says which).
LOG_STATS = frozenset(n for n, spec in STATS.items() if spec.log_axis)


def role_of(stat: str) -> str:
    """Which layer role carries a statistic: 'param' for parameter stats, else 'module'."""
    return "param" if stat in PARAM_STATS else "module"


def thin_index(n: int, limit: int = MAX_COLUMNS) -> np.ndarray:
    """Evenly spaced indices into ``n`` items, at most ``limit``, first and last kept."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def array_names(reader, prefix: str) -> list[str]:
    return [n for n in reader.array_names() if n.startswith(prefix)]


def latest_array(reader, name: str, step: int | None = None) -> tuple[int, np.ndarray] | None:
    """(step, array) of ``name`` at ``step`` (nearest stored one) or the latest; None if absent."""
    steps = reader.array_steps(name)
    if not steps:
        return None
    chosen = steps[-1] if step is None else min(steps, key=lambda s: (abs(s - step), -s))
    return chosen, reader.array(name, chosen)


def nearest_step(steps: np.ndarray, step: int | None) -> int | None:
    """The recorded step closest to ``step`` (latest when None)."""
    if len(steps) == 0:
        return None
    if step is None:
        return int(steps[-1])
    return int(steps[np.argmin(np.abs(steps - step))])


def module_layers(reader) -> list:
    return reader.layers(role="module")


def bn_layers(reader) -> list[str]:
    """Names of BatchNorm layers, in forward order."""
    return [lay.name for lay in reader.layers(role="module") if "BatchNorm" in lay.type]


def safe_log10(values: np.ndarray) -> np.ndarray:
    """log10 of positive entries; NaN for zero, negative or missing."""
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values) & (values > 0)
    out[ok] = np.log10(values[ok])
    return out


def short(name: str, limit: int = 28) -> str:
    """A layer name short enough for an axis tick."""
    return name if len(name) <= limit else "…" + name[-(limit - 1) :]


def short_names(names: list[str], limit: int = 28) -> list[str]:
    """``short`` for each name, made unique (a clash gets its position appended)."""
    out, seen = [], set()
    for i, name in enumerate(names):
        label = short(name, limit)
        if label in seen:
            label = f"{label} #{i}"
        seen.add(label)
        out.append(label)
    return out
