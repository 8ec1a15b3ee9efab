"""SQLite schema of a run store. One run = one folder: ``run.sqlite`` + ``artifacts/``.

Bump ``SCHEMA_VERSION`` on any incompatible change; readers refuse newer versions with a
clear message instead of misreading them.
"""

from __future__ import annotations

from enum import StrEnum

SCHEMA_VERSION = 2  # 2: stats_recent (1 is read as before: no such table)
APPLICATION_ID = 0x494E5350  # "INSP": marks the file as ours (PRAGMA application_id)
DB_NAME = "run.sqlite"
ARTIFACTS_DIR = "artifacts"

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                -- JSON
);
CREATE TABLE IF NOT EXISTS layers (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,     -- module path, or module path + '.' + param name
    role     TEXT NOT NULL,            -- 'module' | 'param'
    type     TEXT NOT NULL,            -- module class, or 'weight' / 'bias' / ...
    position INTEGER NOT NULL,         -- order of first forward call (modules) / registration
    info     TEXT NOT NULL DEFAULT '{}'-- JSON: shape, shared, bounds, trainable, ...
);
CREATE TABLE IF NOT EXISTS steps (
    step       INTEGER PRIMARY KEY,
    wall_time  REAL NOT NULL,          -- unix time when rec.step() returned
    duration   REAL,                   -- seconds since the previous step
    recorded   INTEGER NOT NULL        -- 1 if layer statistics were recorded
);
CREATE TABLE IF NOT EXISTS scalars (
    name  TEXT NOT NULL,
    step  INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (name, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stats (
    stat     TEXT NOT NULL,
    layer_id INTEGER NOT NULL,
    step     INTEGER NOT NULL,
    value    REAL,
    PRIMARY KEY (stat, layer_id, step)
) WITHOUT ROWID;
-- The newest statistics, appended in write order and moved into `stats` in sorted batches
-- (MERGE_ROWS): one step's rows span every (stat, layer) range of `stats`, so inserting
-- them there directly writes one page per statistic per layer per step. Readers see the
-- union of both tables (STATS_SOURCE).
CREATE TABLE IF NOT EXISTS stats_recent (
    stat     TEXT NOT NULL,
    layer_id INTEGER NOT NULL,
    step     INTEGER NOT NULL,
    value    REAL
);
CREATE TABLE IF NOT EXISTS hists (
    kind     TEXT NOT NULL,            -- 'act' | 'grad' | 'param_grad' | 'norm_in' | 'unit_active'
    layer_id INTEGER NOT NULL,
    step     INTEGER NOT NULL,
    data     BLOB NOT NULL,            -- int32 counts (or packed bits for unit_active)
    PRIMARY KEY (kind, layer_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    kind  TEXT NOT NULL,               -- 'architecture', 'receptive_field', 'findings', ...
    key   TEXT NOT NULL,
    step  INTEGER NOT NULL DEFAULT -1,
    value TEXT NOT NULL,               -- JSON
    PRIMARY KEY (kind, key, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS arrays (
    name  TEXT NOT NULL,               -- e.g. 'kernels/conv1', 'saliency/ig'
    step  INTEGER NOT NULL DEFAULT -1,
    path  TEXT NOT NULL,               -- relative to the run folder (.npy)
    shape TEXT NOT NULL,
    dtype TEXT NOT NULL,
    PRIMARY KEY (name, step)
) WITHOUT ROWID;
"""

# Rows of stats_recent that trigger a merge into stats (~50 steps of a 30-layer model).
MERGE_ROWS = 16384
MERGE_SQL = (
    "INSERT OR REPLACE INTO stats(stat, layer_id, step, value) "
    "SELECT stat, layer_id, step, value FROM stats_recent ORDER BY stat, layer_id, step, rowid"
)
# What readers query as "stats" in a schema-2 store (schema 1: the stats table alone).
STATS_SOURCE = (
    "(SELECT stat, layer_id, step, value FROM stats "
    "UNION ALL SELECT stat, layer_id, step, value FROM stats_recent)"
)


class RunStatus(StrEnum):
    """Run lifecycle states, as stored in meta['status']."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    INCOMPLETE = "incomplete"  # ran to the end, but recording stopped early (disk full)
