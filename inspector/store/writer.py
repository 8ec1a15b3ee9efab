"""Writing side of a run store: one SQLite database in WAL mode plus an artifacts folder.

All writes go through one connection guarded by a lock, so the recorder's writer thread and
the training thread (metadata, artifacts) can both use it. Each recorded step is one
transaction: a crash loses at most the step in flight.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from inspector.errors import StoreError
from inspector.store.jsonsafe import to_json
from inspector.store.paths import runs_root, sanitize_name, unique_run_dir
from inspector.store.schema import (
    APPLICATION_ID,
    ARTIFACTS_DIR,
    DB_NAME,
    DDL,
    SCHEMA_VERSION,
    RunStatus,
)


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open the run database; WAL lets readers follow a run while it is written."""
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=30
        )
    else:
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class RunWriter:
    """Creates a run folder and writes everything the training side records."""

    def __init__(self, run_dir: Path, conn: sqlite3.Connection) -> None:
        self.dir = run_dir
        self._conn = conn
        self._lock = threading.Lock()
        self.closed = False

    # -- creation -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str | None = None,
        root: str | os.PathLike | None = None,
        meta: Mapping[str, Any] | None = None,
        run_dir: str | os.PathLike | None = None,
    ) -> RunWriter:
        """A new run folder under ``root`` (unique name) or exactly at ``run_dir``."""
        name = name or time.strftime("run-%Y%m%d-%H%M%S")
        if run_dir is not None:
            target = Path(run_dir)
            if (target / DB_NAME).exists():
                raise StoreError(f"{target} already holds a run; pick another name or folder")
        else:
            root_dir = runs_root(root)
            target = unique_run_dir(root_dir, name)
        try:
            (target / ARTIFACTS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create run folder {target}: {exc.strerror}") from exc
        conn = connect(target / DB_NAME)
        conn.executescript(DDL)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        writer = cls(target, conn)
        base = {
            "schema_version": SCHEMA_VERSION,
            "id": target.name,
            "name": sanitize_name(name),
            "created": time.time(),
            "status": RunStatus.RUNNING,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        writer.set_meta({**base, **dict(meta or {})})
        return writer

    # -- metadata and records ---------------------------------------------------------
    def set_meta(self, values: Mapping[str, Any]) -> None:
        rows = [(k, to_json(v)) for k, v in values.items()]
        self._execute_many("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", rows)

    def set_status(self, status: RunStatus, error: str | None = None) -> None:
        values: dict[str, Any] = {"status": str(status), "ended": time.time()}
        if error:
            values["error"] = error
        self.set_meta(values)

    def put_record(self, kind: str, key: str, value: Any, step: int = -1) -> None:
        """A JSON document (architecture table, findings, study row...)."""
        self._execute_many(
            "INSERT OR REPLACE INTO records(kind, key, step, value) VALUES (?, ?, ?, ?)",
            [(kind, key, int(step), to_json(value))],
        )

    def put_array(self, name: str, array: np.ndarray, step: int = -1) -> Path:
        """Save an array under artifacts/ (kernels, saliency maps) and index it."""
        array = np.asarray(array)
        safe = "/".join(sanitize_name(part) for part in name.split("/"))
        rel = Path(ARTIFACTS_DIR) / safe / (f"step{step:08d}.npy" if step >= 0 else "value.npy")
        (self.dir / rel).parent.mkdir(parents=True, exist_ok=True)
        np.save(self.dir / rel, array)
        self._execute_many(
            "INSERT OR REPLACE INTO arrays(name, step, path, shape, dtype) VALUES (?,?,?,?,?)",
            [(name, int(step), rel.as_posix(), json.dumps(list(array.shape)), str(array.dtype))],
        )
        return self.dir / rel

    # -- per-step data ----------------------------------------------------------------
    def register_layers(self, layers: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Insert layers (name, role, type, position, info) not seen before; name -> id."""
        with self._lock, self._conn:
            for layer in layers:
                self._conn.execute(
                    "INSERT OR IGNORE INTO layers(name, role, type, position, info) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        layer["name"],
                        layer["role"],
                        layer["type"],
                        int(layer["position"]),
                        to_json(layer.get("info", {})),
                    ),
                )
            return dict(self._conn.execute("SELECT name, id FROM layers"))

    def write_step(
        self,
        step: int,
        wall_time: float,
        duration: float | None,
        recorded: bool,
        stats: Iterable[tuple[str, int, float]] = (),
        hists: Iterable[tuple[str, int, bytes]] = (),
        scalars: Iterable[tuple[str, int, float]] = (),
        extra_steps: Iterable[tuple[int, float, float | None]] = (),
    ) -> None:
        """One transaction: the step row, its statistics, histograms and scalars.

        ``stats`` rows are (stat, layer_id, value); ``hists`` (kind, layer_id, blob);
        ``scalars`` (name, step, value); ``extra_steps`` are unrecorded steps' timing rows.
        """
        with self._lock, self._conn:
            c = self._conn
            c.executemany(
                "INSERT OR REPLACE INTO steps(step, wall_time, duration, recorded) "
                "VALUES (?, ?, ?, 0)",
                list(extra_steps),
            )
            c.execute(
                "INSERT OR REPLACE INTO steps(step, wall_time, duration, recorded) "
                "VALUES (?, ?, ?, ?)",
                (step, wall_time, duration, int(recorded)),
            )
            c.executemany(
                "INSERT OR REPLACE INTO stats(stat, layer_id, step, value) VALUES (?, ?, ?, ?)",
                [(s, lid, step, _real(v)) for s, lid, v in stats],
            )
            c.executemany(
                "INSERT OR REPLACE INTO hists(kind, layer_id, step, data) VALUES (?, ?, ?, ?)",
                [(k, lid, step, blob) for k, lid, blob in hists],
            )
            c.executemany(
                "INSERT OR REPLACE INTO scalars(name, step, value) VALUES (?, ?, ?)",
                [(n, s, _real(v)) for n, s, v in scalars],
            )

    def write_scalars(self, rows: Iterable[tuple[str, int, float]]) -> None:
        self._execute_many(
            "INSERT OR REPLACE INTO scalars(name, step, value) VALUES (?, ?, ?)",
            [(n, s, _real(v)) for n, s, v in rows],
        )

    # -- plumbing ---------------------------------------------------------------------
    def _execute_many(self, sql: str, rows: list[tuple]) -> None:
        if self.closed:
            raise StoreError(f"run {self.dir} is closed for writing")
        with self._lock, self._conn:
            self._conn.executemany(sql, rows)

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._conn.close()
                self.closed = True


def _real(value: float) -> float | None:
    """SQLite stores NaN as NULL; keep that explicit."""
    value = float(value)
    return None if value != value else value
