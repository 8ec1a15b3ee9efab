"""How a line over steps is drawn: only at recorded steps (a gap where steps were not
recorded, never a straight line across them), optionally EMA-smoothed like TensorBoard
(raw line faint behind), against the step or the wall-clock time, and runs that differ
only in their seed folded into mean ± spread."""

from __future__ import annotations

import warnings
from enum import StrEnum

import numpy as np

GAP_FACTOR = 3.0  # a gap this many times the median spacing ...
GAP_SHARE = 0.05  # ... and over this share of the run is drawn as a gap


class XAxis(StrEnum):
    STEP = "step"
    WALL = "wall time"


def gapped(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` with a NaN inserted inside every unrecorded stretch, so plotly breaks the
    line there instead of drawing a straight segment across steps nobody measured."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 3:
        return x, y
    gaps = np.diff(x)
    span = x[-1] - x[0]
    limit = max(GAP_FACTOR * float(np.median(gaps)), GAP_SHARE * span)
    cut = np.flatnonzero(gaps > limit)
    if not len(cut):
        return x, y
    xs = np.insert(x, cut + 1, (x[cut] + x[cut + 1]) / 2)
    ys = np.insert(y, cut + 1, np.nan)
    return xs, ys


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: exponential moving average, debiased at the start, NaNs
    skipped (they stay NaN). ``weight`` in [0, 1): 0 = raw."""
    values = np.asarray(values, dtype=float)
    if weight <= 0 or not len(values):
        return values
    out = np.full_like(values, np.nan)
    last, n = 0.0, 0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        last = last * weight + (1 - weight) * v
        n += 1
        out[i] = last / (1 - weight**n)
    return out


def wall_seconds(reader, steps: np.ndarray) -> np.ndarray:
    """Seconds since the run's first step for each of ``steps`` (NaN where unknown)."""
    all_steps, wall, _ = reader.step_times()
    if not len(all_steps):
        return np.full(len(steps), np.nan)
    lookup = dict(zip(all_steps.tolist(), (wall - wall[0]).tolist()))
    return np.array([lookup.get(int(s), np.nan) for s in steps], dtype=float)


def x_values(reader, steps: np.ndarray, axis: str) -> np.ndarray:
    return wall_seconds(reader, steps) if axis == XAxis.WALL else np.asarray(steps, float)


def x_title(axis: str) -> str:
    return "seconds since start" if axis == XAxis.WALL else "step"


def seed_group_key(meta: dict) -> str:
    """Everything that defines a run except its seed (and its name/time)."""
    model = meta.get("model") or {}
    kwargs = dict(model.get("kwargs") or {}) if isinstance(model, dict) else {}
    kwargs.pop("seed", None)
    hp = dict(meta.get("hparams") or {})
    hp.pop("seed", None)
    data = meta.get("data") or {}
    return repr(
        (
            model.get("name") if isinstance(model, dict) else model,
            sorted(kwargs.items()),
            data.get("name") if isinstance(data, dict) else data,
            sorted((k, repr(v)) for k, v in hp.items()),
        )
    )


def seed_groups(metas: dict[str, dict]) -> list[list[str]]:
    """Run ids grouped by ``seed_group_key`` (groups of one included), in input order."""
    groups: dict[str, list[str]] = {}
    for run_id, meta in metas.items():
        groups.setdefault(seed_group_key(meta), []).append(run_id)
    return list(groups.values())


def mean_spread(
    series: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(steps, mean, min, max) over runs, on the steps every run recorded."""
    common = set(series[0][0].tolist())
    for steps, _ in series[1:]:
        common &= set(steps.tolist())
    steps = np.array(sorted(common), dtype=float)
    rows = []
    for s, v in series:
        lookup = dict(zip(s.tolist(), v.tolist()))
        rows.append([lookup[int(t)] for t in steps])
    matrix = np.array(rows, dtype=float).reshape(len(series), len(steps))
    with warnings.catch_warnings():  # an all-NaN column stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return steps, np.nanmean(matrix, 0), np.nanmin(matrix, 0), np.nanmax(matrix, 0)
