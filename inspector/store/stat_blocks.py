"""Per-layer statistics stored by column: one block of float64 values per recorded step.

A step's statistics (about 1,600 numbers on a ResNet-18) are one row of ``stat_blocks``: a
blob of little-endian float64 values, NaN kept, whose columns ``(stat, layer_id)`` are named
once in ``stat_layouts`` (a run has a handful of layouts: the column set changes only when
the recorded layers do). Writing a step is then one insert instead of one B-tree row per
number, and the write cost no longer grows with the run.

Readers load every block once (a live run: only the new ones) and answer per statistic from
the in-memory columns; a schema 1/2 store (one SQL row per number) is read into the same
per-statistic form (``RowStats``), so the queries above them are written once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np

VALUE_DTYPE = np.dtype("<f8")

# (layer_id -> (steps, values)) of one statistic, steps ascending
StatColumns = dict[int, tuple[np.ndarray, np.ndarray]]


def layout_json(columns: Sequence[tuple[str, int]]) -> str:
    """The stored form of a layout: ``[[stat, layer_id], ...]`` in block order."""
    return json.dumps([[stat, int(lid)] for stat, lid in columns])


def encode(values: Sequence[float | None]) -> bytes:
    """A block's blob: float64 little-endian, None stored as NaN."""
    return np.asarray(values, dtype=VALUE_DTYPE).tobytes()


class BlockStats:
    """The statistics of a schema-3 store, from its blocks, kept up to date on each query.

    ``query(sql, args)`` runs a read query on the store (the reader's, so a live run is
    followed and errors read the same); ``problem(text)`` records what could not be read.
    """

    def __init__(self, query: Callable, problem: Callable[[str], None]) -> None:
        self._query = query
        self._problem = problem
        self._last_id = 0
        self._layouts: dict[int, tuple[list[str], np.ndarray, dict[str, np.ndarray]]] = {}
        # layout id -> (block ids, steps, 2-D chunks of rows) in write order; the chunks are
        # joined into one matrix when queried, so the run is held in memory once
        self._blocks: dict[int, tuple[list[int], list[int], list[np.ndarray]]] = {}
        self._cache: dict[str, StatColumns] = {}

    def _refresh(self) -> None:
        rows = self._query(
            "SELECT id, step, layout, data FROM stat_blocks WHERE id > ? ORDER BY id",
            (self._last_id,),
        )
        if not rows:
            return
        self._cache.clear()
        bad = 0
        for block_id, step, layout, data in rows:
            self._last_id = block_id
            columns = self._layout(layout)
            if (
                columns is None
                or not isinstance(data, bytes)
                or len(data) != VALUE_DTYPE.itemsize * len(columns[0])
            ):
                bad += 1
                continue
            ids, steps, values = self._blocks.setdefault(layout, ([], [], []))
            ids.append(block_id)
            steps.append(int(step))
            values.append(np.frombuffer(data, dtype=VALUE_DTYPE).reshape(1, -1))
        if bad:
            self._problem(f"{bad} malformed statistics block(s) skipped")

    def _layout(self, layout_id: int):
        if layout_id not in self._layouts:
            got = self._query("SELECT columns FROM stat_layouts WHERE id = ?", (layout_id,))
            try:
                pairs = json.loads(got[0][0])
                stats = [str(s) for s, _ in pairs]
                lids = np.array([int(lid) for _, lid in pairs], dtype=np.int64)
            except (IndexError, TypeError, ValueError):
                return None  # not cached: a layout written after this query is read later
            by_stat: dict[str, list[int]] = {}
            for col, stat in enumerate(stats):
                by_stat.setdefault(stat, []).append(col)
            index = {s: np.array(c, dtype=np.int64) for s, c in by_stat.items()}
            self._layouts[layout_id] = (stats, lids, index)
        return self._layouts[layout_id]

    def names(self) -> list[str]:
        self._refresh()
        return sorted({s for layout in self._blocks for s in self._layouts[layout][2]})

    def columns(self, stat: str) -> StatColumns:
        """layer_id -> (steps, values) of ``stat``; a step written twice keeps its last value."""
        self._refresh()
        if stat in self._cache:
            return self._cache[stat]
        parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        for layout, (ids, steps, rows) in self._blocks.items():
            _, lids, index = self._layouts[layout]
            cols = index.get(stat)
            if cols is None:
                continue
            if len(rows) > 1:
                rows[:] = [np.concatenate(rows)]
            matrix = rows[0][:, cols]
            order, step_arr = np.asarray(ids), np.asarray(steps, dtype=np.int64)
            for k, lid in enumerate(lids[cols]):
                parts.setdefault(int(lid), []).append((order, step_arr, matrix[:, k]))
        out: StatColumns = {}
        for lid, pieces in parts.items():
            out[lid] = _last_per_step(
                np.concatenate([p[0] for p in pieces]),
                np.concatenate([p[1] for p in pieces]),
                np.concatenate([p[2] for p in pieces]),
            )
        self._cache[stat] = out
        return out


class RowStats:
    """The statistics of a schema 1/2 store (one row per number) in the same form."""

    def __init__(self, query: Callable, source: str) -> None:
        self._query = query
        self._source = source

    def names(self) -> list[str]:
        return [
            r[0] for r in self._query(f"SELECT DISTINCT stat FROM {self._source} ORDER BY stat")
        ]

    def columns(self, stat: str) -> StatColumns:
        rows = self._query(
            f"SELECT layer_id, step, value FROM {self._source} WHERE stat = ?", (stat,)
        )
        grouped: dict[int, list[tuple[int, float]]] = {}
        for lid, step, value in rows:
            grouped.setdefault(int(lid), []).append((int(step), value))
        out: StatColumns = {}
        for lid, pairs in grouped.items():
            steps = np.array([s for s, _ in pairs], dtype=np.int64)
            values = np.array([stored_number(v) for _, v in pairs], dtype=np.float64)
            out[lid] = _last_per_step(np.arange(len(steps)), steps, values)
        return out


def stored_number(value: object) -> float:
    """A stored number as float; NULL, text or blobs (a damaged row) read as NaN."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float("nan")


def _last_per_step(
    order: np.ndarray, steps: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted by step; where a step appears twice, the value written last."""
    idx = np.lexsort((order, steps))
    steps, values = steps[idx], values[idx]
    keep = np.ones(len(steps), dtype=bool)
    keep[:-1] = steps[1:] != steps[:-1]
    return steps[keep], values[keep]
