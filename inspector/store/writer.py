"""Writing side of a run store: one SQLite database in WAL mode plus an artifacts folder.

All writes go through one connection guarded by a lock, so the recorder's writer thread and
the training thread (metadata, artifacts) can both use it. Each recorded step is one
transaction: a crash loses at most the step in flight.

Durability rules kept here:
- the run folder and its database are claimed atomically (two processes that ask for the
  same name get two folders);
- a heartbeat thread stamps ``meta.heartbeat`` every few seconds, so readers can tell a
  live run from one whose process died (or whose PID was reused);
- a full disk degrades recording instead of breaking training: one warning, further writes
  dropped, the run marked ``incomplete`` where the disk still allows it.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from inspector.errors import StoreError
from inspector.store.jsonsafe import to_json
from inspector.store.liveness import HEARTBEAT_SECONDS, process_start_time
from inspector.store.paths import runs_root, sanitize_name, unique_run_dir
from inspector.store.schema import (
    APPLICATION_ID,
    ARTIFACTS_DIR,
    DB_NAME,
    DDL,
    HIST_MERGE_ROWS,
    HIST_MERGE_SQL,
    SCHEMA_VERSION,
    RunStatus,
)
from inspector.store.stat_blocks import encode, layout_json

DISK_FULL = "disk full"


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open the run database for writing (WAL lets readers follow a run while it is written).

    ``readonly=True`` is kept for callers that want a plain ``mode=ro`` connection; the
    reader uses :func:`inspector.store.reader.connect_readonly`, which avoids creating
    ``-wal``/``-shm`` files for finished runs.
    """
    if readonly:
        return sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=30
        )
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL, or ENOSPC/EDQUOT from writing an artifact."""
    if isinstance(exc, sqlite3.OperationalError):
        return "full" in str(exc).lower()
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


class RunWriter:
    """Creates a run folder and writes everything the training side records."""

    def __init__(self, run_dir: Path, conn: sqlite3.Connection) -> None:
        self.dir = run_dir
        self._conn = conn
        self._lock = threading.Lock()
        self.closed = False
        self.degraded: str | None = None  # why writes are being dropped (disk full)
        self._db_ino = _inode(run_dir / DB_NAME)
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._recent_hists = 0  # rows in hists_recent not yet merged into hists
        self._layouts: dict[tuple[tuple[str, int], ...], int] = {}  # columns -> layout id

    # -- creation -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str | None = None,
        root: str | os.PathLike | None = None,
        meta: Mapping[str, Any] | None = None,
        run_dir: str | os.PathLike | None = None,
        heartbeat: bool = True,
    ) -> RunWriter:
        """A new run folder under ``root`` (unique name) or exactly at ``run_dir``."""
        name = name or time.strftime("run-%Y%m%d-%H%M%S")
        target: Path | None = None
        try:
            if run_dir is not None:
                target = Path(run_dir)
                target.mkdir(parents=True, exist_ok=True)
            else:
                target = unique_run_dir(runs_root(root), name)
            _claim(target / DB_NAME)
            (target / ARTIFACTS_DIR).mkdir(exist_ok=True)
        except FileExistsError as exc:
            if target is not None and (target / DB_NAME).exists():
                raise StoreError(
                    f"{target} already holds a run; pick another name or folder"
                ) from None
            where = run_dir if run_dir is not None else runs_root(root)
            raise StoreError(
                f"cannot create a run folder in {where}: a file is in the way ({exc.filename})"
            ) from None
        except OSError as exc:
            where = run_dir if run_dir is not None else runs_root(root)
            raise StoreError(f"cannot create a run folder in {where}: {exc.strerror}") from exc
        conn = connect(target / DB_NAME)
        conn.executescript(DDL)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        writer = cls(target, conn)
        now = time.time()
        base = {
            "schema_version": SCHEMA_VERSION,
            "id": target.name,
            "name": sanitize_name(name),
            "created": now,
            "status": RunStatus.RUNNING,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "process_start": process_start_time(os.getpid()),
            "heartbeat": now,
        }
        writer.set_meta({**base, **dict(meta or {})})
        if heartbeat:
            writer._start_heartbeat()
        return writer

    # -- metadata and records ---------------------------------------------------------
    def set_meta(self, values: Mapping[str, Any]) -> None:
        rows = [(k, to_json(v)) for k, v in values.items()]
        self._execute_many("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", rows)

    def set_status(self, status: RunStatus, error: str | None = None) -> None:
        """Final status; tried even after a full disk (space may have been freed)."""
        values: dict[str, Any] = {"status": str(status), "ended": time.time()}
        if error:
            values["error"] = error
        rows = [(k, to_json(v)) for k, v in values.items()]
        if self.closed:
            raise StoreError(f"run {self.dir} is closed for writing")
        try:
            with self._lock, self._conn:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", rows
                )
        except (sqlite3.OperationalError, OSError) as exc:
            if not is_disk_full(exc):
                raise
            self._disk_full(exc)

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
        if self.degraded:
            return self.dir / rel
        try:
            (self.dir / rel).parent.mkdir(parents=True, exist_ok=True)
            np.save(self.dir / rel, array)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self._disk_full(exc)
            return self.dir / rel
        self._execute_many(
            "INSERT OR REPLACE INTO arrays(name, step, path, shape, dtype) VALUES (?,?,?,?,?)",
            [(name, int(step), rel.as_posix(), json.dumps(list(array.shape)), str(array.dtype))],
        )
        return self.dir / rel

    # -- per-step data ----------------------------------------------------------------
    def register_layers(self, layers: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Insert layers (name, role, type, position, info) not seen before; name -> id."""
        rows = [
            (
                layer["name"],
                layer["role"],
                layer["type"],
                int(layer["position"]),
                to_json(layer.get("info", {})),
            )
            for layer in layers
        ]
        self._execute_many(
            "INSERT OR IGNORE INTO layers(name, role, type, position, info) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        try:
            with self._lock:
                return dict(self._conn.execute("SELECT name, id FROM layers"))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read the layers of {self.dir / DB_NAME}: {exc}") from exc

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
        if self.degraded:
            return
        layouts = len(self._layouts)
        try:
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
                stats = list(stats)
                if stats:
                    layout = self._layout(tuple((name, lid) for name, lid, _ in stats))
                    c.execute(
                        "INSERT INTO stat_blocks(step, layout, data) VALUES (?, ?, ?)",
                        (step, layout, encode([v for _, _, v in stats])),
                    )
                hist_rows = [(k, lid, step, blob) for k, lid, blob in hists]
                c.executemany(
                    "INSERT INTO hists_recent(kind, layer_id, step, data) VALUES (?, ?, ?, ?)",
                    hist_rows,
                )
                self._recent_hists += len(hist_rows)
                if self._recent_hists >= HIST_MERGE_ROWS:
                    self._merge_recent()  # same transaction: readers never see it half done
                c.executemany(
                    "INSERT OR REPLACE INTO scalars(name, step, value) VALUES (?, ?, ?)",
                    [(n, s, _real(v)) for n, s, v in scalars],
                )
        except BaseException as exc:
            # rolled back: forget the layouts this transaction added (ids are insert order)
            while len(self._layouts) > layouts:
                self._layouts.pop(next(reversed(self._layouts)))
            if not (isinstance(exc, sqlite3.OperationalError) and is_disk_full(exc)):
                raise
            self._disk_full(exc)

    def write_scalars(self, rows: Iterable[tuple[str, int, float]]) -> None:
        self._execute_many(
            "INSERT OR REPLACE INTO scalars(name, step, value) VALUES (?, ?, ?)",
            [(n, s, _real(v)) for n, s, v in rows],
        )

    # -- health -----------------------------------------------------------------------
    def lost(self) -> str | None:
        """Why the store is gone (deleted, replaced or truncated under us), else None.

        SQLite keeps writing into a deleted file through its open descriptor, so a run
        whose folder was removed would otherwise end "finished" with nothing on disk.
        """
        path = self.dir / DB_NAME
        try:
            st = path.stat()
        except OSError:
            return f"the run store {path} was deleted while the run was writing"
        if self._db_ino is not None and st.st_ino != self._db_ino:
            return f"the run store {path} was replaced while the run was writing"
        if st.st_size < 100:  # shorter than the SQLite header
            return f"the run store {path} was truncated while the run was writing"
        return None

    def _disk_full(self, exc: BaseException) -> None:
        """Stop writing (once, with one warning); training goes on."""
        if self.degraded:
            return
        self.degraded = DISK_FULL
        warnings.warn(
            f"inspector: {DISK_FULL} while writing {self.dir} ({exc}); recording stops, "
            "training continues; the run will be marked incomplete",
            RuntimeWarning,
            stacklevel=3,
        )

    def _start_heartbeat(self) -> None:
        self._heartbeat = threading.Thread(
            target=self._beat, name="inspector-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def _beat(self) -> None:
        """Stamp ``meta.heartbeat`` every few seconds while the run is open."""
        while not self._stop.wait(HEARTBEAT_SECONDS):
            if self.degraded:
                continue
            try:
                self.set_meta({"heartbeat": time.time()})
            except Exception:  # a broken store is reported by the writes that matter
                continue

    # -- plumbing ---------------------------------------------------------------------
    def _execute_many(self, sql: str, rows: list[tuple]) -> None:
        if self.closed:
            raise StoreError(f"run {self.dir} is closed for writing")
        if self.degraded:
            return
        try:
            with self._lock, self._conn:
                self._conn.executemany(sql, rows)
        except (sqlite3.OperationalError, OSError) as exc:
            if not is_disk_full(exc):
                raise
            self._disk_full(exc)

    def _layout(self, columns: tuple[tuple[str, int], ...]) -> int:
        """The stat_layouts id of a block's columns (stored once per distinct set); call
        inside write_step's transaction, which forgets it again if it rolls back."""
        layout = self._layouts.get(columns)
        if layout is None:
            cur = self._conn.execute(
                "INSERT INTO stat_layouts(columns) VALUES (?)", (layout_json(columns),)
            )
            assert cur.lastrowid is not None  # an INSERT into a rowid table
            layout = self._layouts[columns] = cur.lastrowid
        return layout

    def _merge_recent(self) -> None:
        """Move hists_recent into hists, sorted (each page of hists written once per batch);
        call inside a transaction."""
        self._conn.execute(HIST_MERGE_SQL)
        self._conn.execute("DELETE FROM hists_recent")
        self._recent_hists = 0

    def close(self) -> None:
        self._stop.set()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            self._heartbeat.join()
        with self._lock:
            if not self.closed:
                if self._recent_hists and not self.degraded:
                    try:  # a finished run keeps all its histograms in hists
                        with self._conn:
                            self._merge_recent()
                    except sqlite3.DatabaseError:
                        pass  # full disk: the rows stay in hists_recent, still read
                try:
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.DatabaseError:
                    pass  # a full disk or a damaged file: closing must still work
                self._conn.close()
                self.closed = True


def _claim(db: Path) -> None:
    """Create the database file exclusively: the atomic claim on a run folder."""
    fd = os.open(db, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.close(fd)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _real(value: float) -> float | None:
    """SQLite stores NaN as NULL; keep that explicit."""
    value = float(value)
    return None if value != value else value
