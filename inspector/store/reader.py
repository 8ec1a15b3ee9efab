"""Reading side of a run store: the only way diagnosis, dashboard and reports see a run.

Opens the database read-only, so it can follow a run that is still being written (WAL); a
finished run (no ``-wal`` file: its writer has closed) is opened ``immutable``, which creates
no ``-wal``/``-shm`` files and works on read-only folders and other users' runs.

Every method degrades per record: a malformed JSON value, blob or ``.npy`` file is skipped
and named in ``reader.problems`` instead of breaking the whole run. Returns numpy arrays and
plain Python objects; never imports torch.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import urllib.parse
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from inspector.errors import StoreError
from inspector.probes.bins import edges_for
from inspector.store.liveness import writer_alive
from inspector.store.schema import (
    APPLICATION_ID,
    DB_NAME,
    HISTS_SOURCE,
    LEGACY_STATS_SOURCE,
    SCHEMA_VERSION,
    RunStatus,
)
from inspector.store.stat_blocks import BlockStats, RowStats
from inspector.store.stat_blocks import stored_number as _num
from inspector.store.stats import HISTOGRAMS

HIST_SCALE = {kind: spec.scale for kind, spec in HISTOGRAMS.items()}


@dataclass(frozen=True)
class Layer:
    id: int
    name: str
    role: str  # 'module' | 'param'
    type: str
    position: int
    info: dict


@dataclass(frozen=True)
class Series:
    """A statistic over steps for several layers: ``values[layer, step]`` (NaN = missing)."""

    stat: str
    steps: np.ndarray
    layers: list[str]
    values: np.ndarray


class RunReader:
    """Read-only view of one run folder."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.dir = Path(run_dir)
        db = self.dir / DB_NAME
        if not db.is_file():
            raise StoreError(f"{self.dir} is not an Inspector run (no {DB_NAME} in it)")
        self.problems: list[str] = []  # what could not be read, one line per record
        self._arrays_checked: dict[str, bool] = {}
        try:
            self._conn = connect_readonly(db)
            self._immutable = not _wal(db).exists()
            self._db_stamp = _stamp(db)
            app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{db} is corrupt or not a database ({exc}); remove that run") from exc
        if app_id != APPLICATION_ID:
            raise StoreError(f"{db} was not written by Inspector (foreign SQLite file)")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{db} uses store schema {version}, newer than this Inspector ({SCHEMA_VERSION}); "
                "upgrade inspector to read it"
            )

    def close(self) -> None:
        self._conn.close()

    def _changed(self) -> bool:
        """Whether a writer has opened (``-wal`` present) or changed the finished run."""
        db = self.dir / DB_NAME
        return _wal(db).exists() or _stamp(db) != self._db_stamp

    def _follow_writer(self) -> None:
        """A writer opened this finished run again (e.g. ``inspector diagnose`` storing
        findings): an immutable connection would not see its writes (and could read a
        half-old page cache), so reopen."""
        db = self.dir / DB_NAME
        try:
            conn = connect_readonly(db)
        except sqlite3.DatabaseError:
            return
        self._conn.close()
        self._conn = conn
        self._immutable = not _wal(db).exists()
        self._db_stamp = _stamp(db)

    def __enter__(self) -> RunReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        if self._immutable and self._changed():
            self._follow_writer()
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read {self.dir / DB_NAME}: {exc}") from exc

    # -- metadata ---------------------------------------------------------------------
    @property
    def meta(self) -> dict[str, Any]:
        """All run metadata (re-read each time: a live run's status changes).

        A value that is not valid JSON is left out (and named in ``problems``)."""
        out = {}
        for key, value in self._q("SELECT key, value FROM meta"):
            parsed = self._json(value, f"meta[{key!r}]")
            if parsed is not _BAD:
                out[str(key)] = parsed
        return out

    def _json(self, text: Any, what: str) -> Any:
        """``json.loads`` that notes a malformed value instead of raising."""
        try:
            return json.loads(text)
        except (TypeError, ValueError, RecursionError):
            self._problem(f"{what} is not valid JSON")
            return _BAD

    def health(self) -> list[str]:
        """Read every record once and return what could not be read (empty: all readable).

        Views show this as one note instead of failing; each reader method also skips the
        same damaged records on its own."""
        _ = self.meta
        self.layers()
        for (kind,) in self._q("SELECT DISTINCT kind FROM records"):
            self.records(kind)
        self.array_names()
        return list(self.problems)

    def _problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    @property
    def id(self) -> str:
        return self.dir.name

    @property
    def status(self) -> str:
        """Stored status; a 'running' run whose process is gone reads as interrupted."""
        meta = self.meta
        status = meta.get("status", RunStatus.RUNNING)
        if not isinstance(status, str):
            self._problem("meta['status'] is not a string")
            return "unknown"
        if status == RunStatus.RUNNING and not writer_alive(meta):
            return str(RunStatus.INTERRUPTED)
        return status

    # -- layers and steps -------------------------------------------------------------
    def layers(self, role: str | None = None) -> list[Layer]:
        sql = "SELECT id, name, role, type, position, info FROM layers"
        rows = self._q(
            sql + (" WHERE role = ?" if role else "") + " ORDER BY position, id",
            (role,) if role else (),
        )
        out = []
        for lid, name, role, type_, position, info in rows:
            parsed = self._json(info, f"layer {name!r} info")
            if not isinstance(parsed, dict):
                if parsed is not _BAD:
                    self._problem(f"layer {name!r} info is not an object")
                parsed = {}
            out.append(Layer(lid, str(name), str(role), str(type_), _int(position), parsed))
        return out

    @cached_property
    def _layer_ids(self) -> dict[str, int]:
        return dict(self._q("SELECT name, id FROM layers"))

    def layer_id(self, name: str) -> int:
        ids = self._layer_ids
        if name not in ids:
            ids.update(self._q("SELECT name, id FROM layers"))  # a live run adds layers
        if name not in ids:
            raise StoreError(f"run {self.id} has no layer named {name!r}")
        return ids[name]

    def steps(self, recorded_only: bool = True) -> np.ndarray:
        sql = "SELECT step FROM steps" + (" WHERE recorded = 1" if recorded_only else "")
        return np.array([r[0] for r in self._q(sql + " ORDER BY step")], dtype=np.int64)

    def step_times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(step, wall_time, duration) of every step, recorded or not."""
        rows = self._q("SELECT step, wall_time, duration FROM steps ORDER BY step")
        arr = np.array([[_num(v) for v in row] for row in rows], dtype=np.float64).reshape(-1, 3)
        return arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2]

    # -- statistics -------------------------------------------------------------------
    def _has_table(self, name: str) -> bool:
        return bool(
            self._q("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        )

    @cached_property
    def _stats(self) -> BlockStats | RowStats:
        """Schema 3: column blocks; schema 2: stats + stats_recent rows; schema 1: stats."""
        if self._has_table("stat_blocks"):
            return BlockStats(self._q, self._problem)
        return RowStats(
            self._q, LEGACY_STATS_SOURCE if self._has_table("stats_recent") else "stats"
        )

    @cached_property
    def _hists(self) -> str:
        """The histogram rows to query: schema 3 keeps the newest in hists_recent."""
        return HISTS_SOURCE if self._has_table("hists_recent") else "hists"

    def stat_names(self) -> list[str]:
        return self._stats.names()

    def layer_series(self, layer: str, stat: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one statistic of one layer."""
        got = self._stats.columns(stat).get(self.layer_id(layer))
        if got is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return got[0].copy(), got[1].copy()

    def _stat_layers(
        self, stat: str, role: str | None, by_name: bool = False
    ) -> list[tuple[Layer, np.ndarray, np.ndarray]]:
        """(layer, steps, values) of every layer that has ``stat``, ordered by position and
        then id (or name)."""
        columns = self._stats.columns(stat)
        if not columns:
            return []
        layers = {layer.id: layer for layer in self.layers()}
        found = [
            (layers[lid], steps, values)
            for lid, (steps, values) in columns.items()
            if lid in layers and (role is None or layers[lid].role == role)
        ]
        tie = (lambda layer: layer.name) if by_name else (lambda layer: layer.id)
        return sorted(found, key=lambda f: (f[0].position, tie(f[0])))

    def series(self, stat: str, role: str | None = None, max_steps: int | None = None) -> Series:
        """One statistic for every layer that has it: a (layers x steps) matrix.

        ``max_steps`` thins the step axis evenly (for display of long runs).
        """
        found = self._stat_layers(stat, role, by_name=True)
        if not found:
            return Series(stat, np.zeros(0, np.int64), [], np.zeros((0, 0)))
        steps = np.unique(np.concatenate([s for _, s, _ in found]))
        if max_steps and len(steps) > max_steps:
            steps = steps[np.unique(np.linspace(0, len(steps) - 1, max_steps).round().astype(int))]
        values = np.full((len(found), len(steps)), np.nan)
        for row, (_, layer_steps, layer_values) in enumerate(found):
            pos = np.searchsorted(steps, layer_steps)
            ok = pos < len(steps)
            ok[ok] = steps[pos[ok]] == layer_steps[ok]
            values[row, pos[ok]] = layer_values[ok]
        return Series(stat, steps, [layer.name for layer, _, _ in found], values)

    def at_step(self, stat: str, step: int, role: str | None = None) -> dict[str, float]:
        """layer name -> value of ``stat`` at ``step``, in layer order."""
        out = {}
        for layer, steps, values in self._stat_layers(stat, role):
            i = int(np.searchsorted(steps, step))
            if i < len(steps) and steps[i] == step:
                out[layer.name] = float(values[i])
        return out

    # -- histograms -------------------------------------------------------------------
    def hist_kinds(self, layer: str | None = None) -> list[str]:
        if layer is None:
            return [r[0] for r in self._q(f"SELECT DISTINCT kind FROM {self._hists}")]
        rows = self._q(
            f"SELECT DISTINCT kind FROM {self._hists} WHERE layer_id = ?", (self.layer_id(layer),)
        )
        return [r[0] for r in rows]

    def histogram(self, layer: str, kind: str = "act") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, interior bin edges, counts[steps x bins]) of one layer's histograms."""
        if kind not in HIST_SCALE:
            raise StoreError(f"unknown histogram kind {kind!r}; choose from {sorted(HIST_SCALE)}")
        edges = edges_for(HIST_SCALE[kind])
        rows = self._q(
            f"SELECT step, data FROM {self._hists} WHERE kind = ? AND layer_id = ? ORDER BY step",
            (kind, self.layer_id(layer)),
        )
        bins = len(edges) + 1
        good = [(s, b) for s, b in rows if isinstance(b, bytes) and len(b) == 4 * bins]
        if len(good) < len(rows):
            self._problem(f"{len(rows) - len(good)} malformed {kind} histogram(s) of {layer!r}")
        counts = np.zeros((len(good), bins), dtype=np.int64)
        for i, (_, blob) in enumerate(good):
            counts[i] = np.frombuffer(blob, dtype=np.int32)
        return np.array([r[0] for r in good], dtype=np.int64), edges, counts

    def unit_activity(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, active[steps x units]) bits: unit produced a non-zero output in the batch."""
        rows = self._q(
            f"SELECT step, data FROM {self._hists} WHERE kind = 'unit_active' AND layer_id = ? "
            "ORDER BY step",
            (self.layer_id(layer),),
        )
        known = self.layers_by_name().get(layer)
        units = max(_int(known.info.get("units", 0)) if known else 0, 0)
        good = [(s, b) for s, b in rows if isinstance(b, bytes) and len(b) * 8 >= units]
        if len(good) < len(rows):
            self._problem(f"{len(rows) - len(good)} malformed unit-activity blob(s) of {layer!r}")
        bits = np.zeros((len(good), units), dtype=bool)
        for i, (_, blob) in enumerate(good):
            bits[i] = np.unpackbits(np.frombuffer(blob, dtype=np.uint8), count=units).astype(bool)
        return np.array([r[0] for r in good], dtype=np.int64), bits

    def layers_by_name(self) -> dict[str, Layer]:
        return {layer.name: layer for layer in self.layers()}

    # -- scalars ----------------------------------------------------------------------
    def scalar_names(self) -> list[str]:
        return [r[0] for r in self._q("SELECT DISTINCT name FROM scalars ORDER BY name")]

    def scalar(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        rows = self._q("SELECT step, value FROM scalars WHERE name = ? ORDER BY step", (name,))
        arr = np.array([(_num(s), _num(v)) for s, v in rows], dtype=np.float64)
        arr = arr.reshape(-1, 2)
        return arr[:, 0].astype(np.int64), arr[:, 1]

    def last_scalar(self, name: str) -> float | None:
        row = self._q(
            "SELECT value FROM scalars WHERE name = ? ORDER BY step DESC LIMIT 1", (name,)
        )
        if not row:
            return None
        value = _num(row[0][0])
        return None if math.isnan(value) else value

    # -- records and arrays -----------------------------------------------------------
    def records(self, kind: str) -> list[tuple[str, int, Any]]:
        rows = self._q(
            "SELECT key, step, value FROM records WHERE kind = ? ORDER BY key, step", (kind,)
        )
        out = []
        for k, s, v in rows:
            parsed = self._json(v, f"record {kind}/{k} (step {s})")
            if parsed is not _BAD:
                out.append((k, s, parsed))
        return out

    def record(self, kind: str, key: str, step: int | None = None) -> Any | None:
        """The record ``kind``/``key`` at ``step``; by default the latest one written."""
        if step is None:
            row = self._q(
                "SELECT value FROM records WHERE kind = ? AND key = ? ORDER BY step DESC LIMIT 1",
                (kind, key),
            )
        else:
            row = self._q(
                "SELECT value FROM records WHERE kind = ? AND key = ? AND step = ?",
                (kind, key, step),
            )
        if not row:
            return None
        parsed = self._json(row[0][0], f"record {kind}/{key}")
        return None if parsed is _BAD else parsed

    def array_names(self) -> list[str]:
        """Names of the arrays whose files are present and readable (others in problems)."""
        rows = self._q("SELECT name, path FROM arrays ORDER BY name, step")
        return sorted({name for name, path in rows if self._array_ok(name, path)})

    def array_steps(self, name: str) -> list[int]:
        """Steps at which ``name`` has a present, readable file."""
        rows = self._q("SELECT step, path FROM arrays WHERE name = ? ORDER BY step", (name,))
        return [step for step, path in rows if self._array_ok(name, path)]

    def _array_ok(self, name: str, rel: Any) -> bool:
        """The stored path stays in the run folder and holds an .npy header (checked once
        per file: artifacts are written once), so views see a missing array as absent."""
        key = str(rel)
        known = self._arrays_checked.get(key)
        if known is not None:
            return known
        try:
            path = self.artifact_path(rel)
            with open(path, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    np.lib.format.read_array_header_1_0(fh)
                else:
                    np.lib.format.read_array_header_2_0(fh)
            ok = True
        except StoreError as exc:
            self._problem(str(exc))
            ok = False
        except FileNotFoundError:
            self._problem(f"array {name!r}: file {key} is missing")
            ok = False
        except (OSError, ValueError, EOFError, SyntaxError) as exc:
            self._problem(f"array {name!r}: file {key} is unreadable ({exc})")
            ok = False
        self._arrays_checked[key] = ok
        return ok

    def array(self, name: str, step: int | None = None) -> np.ndarray:
        """The array ``name`` at ``step``; by default the latest one written."""
        if step is None:
            row = self._q(
                "SELECT path FROM arrays WHERE name = ? ORDER BY step DESC LIMIT 1", (name,)
            )
        else:
            row = self._q("SELECT path FROM arrays WHERE name = ? AND step = ?", (name, step))
        if not row:
            where = "" if step is None else f" at step {step}"
            raise StoreError(f"run {self.id} has no array {name!r}{where}")
        path = self.artifact_path(row[0][0])
        try:
            return np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise StoreError(f"run {self.id}: array {name!r} is missing ({path})") from None
        except (OSError, ValueError, EOFError) as exc:
            raise StoreError(f"run {self.id}: array {name!r} is unreadable ({exc})") from None

    def artifact_path(self, rel: Any) -> Path:
        """An array path stored in the database, resolved inside this run's folder.

        Absolute paths, ``..`` and links that lead out of the run folder are refused: a
        damaged or hostile store must not make readers open arbitrary files."""
        text = str(rel)
        parts = Path(text).parts
        if not text or Path(text).is_absolute() or ".." in parts or "\\" in text:
            raise StoreError(f"run {self.id}: array path {text!r} points outside the run folder")
        path = (self.dir / text).resolve()
        if not path.is_relative_to(self.dir.resolve()):
            raise StoreError(f"run {self.id}: array path {text!r} points outside the run folder")
        return path


_BAD = object()  # marker: a value that could not be parsed


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def _wal(db: Path) -> Path:
    return Path(str(db) + "-wal")


def _stamp(db: Path) -> tuple[int, int, int] | None:
    try:
        st = db.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def connect_readonly(db: Path) -> sqlite3.Connection:
    """A read-only connection that leaves no ``-wal``/``-shm`` files behind a finished run.

    A writer's open connection always keeps a ``-wal`` file; without one the run is closed,
    so it is opened ``immutable`` (no locks, no side files: works on read-only media). A live
    run is opened ``mode=ro`` to follow its WAL; if that is refused (e.g. a crashed run on a
    read-only folder) the immutable open is the fallback.
    """
    uri = "file:" + urllib.parse.quote(str(Path(db).resolve()))
    live = _wal(db).exists()
    if live:
        try:
            conn = sqlite3.connect(uri + "?mode=ro", uri=True, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA schema_version").fetchone()
            return conn
        except sqlite3.OperationalError:
            pass
    return sqlite3.connect(
        uri + "?mode=ro&immutable=1", uri=True, check_same_thread=False, timeout=30
    )
