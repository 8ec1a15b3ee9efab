"""SQLite schema of a run store. One run = one folder: ``run.sqlite`` + ``artifacts/``.

Bump ``SCHEMA_VERSION`` on any incompatible change; readers refuse newer versions with a
clear message instead of misreading them.
"""

from __future__ import annotations

from enum import StrEnum

# 3: statistics in per-step column blocks (stat_blocks), histograms staged in hists_recent;
# 2: stats_recent; 1: the stats table alone. Older stores are read as before.
SCHEMA_VERSION = 3
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
-- Statistics by column: one row per recorded step holding every number of the step as
-- float64 (little-endian, NaN kept); its layout names what each value is. A step is one
-- insert, whatever the model's size (see inspector/store/stat_blocks.py).
CREATE TABLE IF NOT EXISTS stat_layouts (
    id      INTEGER PRIMARY KEY,
    columns TEXT NOT NULL              -- JSON [[stat, layer_id], ...], one per value of a block
);
CREATE TABLE IF NOT EXISTS stat_blocks (
    id     INTEGER PRIMARY KEY,        -- write order (a step written twice: the last wins)
    step   INTEGER NOT NULL,
    layout INTEGER NOT NULL,           -- stat_layouts.id
    data   BLOB NOT NULL               -- float64 values, len(columns) of them
);
CREATE TABLE IF NOT EXISTS hists (
    kind     TEXT NOT NULL,            -- 'act' | 'grad' | 'param_grad' | 'norm_in' | 'unit_active'
    layer_id INTEGER NOT NULL,
    step     INTEGER NOT NULL,
    data     BLOB NOT NULL,            -- int32 counts (or packed bits for unit_active)
    PRIMARY KEY (kind, layer_id, step)
) WITHOUT ROWID;
-- The newest histograms, appended in write order and moved into `hists` in sorted batches
-- (HIST_MERGE_ROWS, and at close): one step's histograms span every (kind, layer) range of
-- `hists`, so inserting them there directly writes one page per histogram per step.
-- Readers see the union of both tables (HISTS_SOURCE).
CREATE TABLE IF NOT EXISTS hists_recent (
    kind     TEXT NOT NULL,
    layer_id INTEGER NOT NULL,
    step     INTEGER NOT NULL,
    data     BLOB NOT NULL
);
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

# Rows of hists_recent that trigger a merge into hists (~20 steps of a ResNet-18).
HIST_MERGE_ROWS = 4096
HIST_MERGE_SQL = (
    "INSERT OR REPLACE INTO hists(kind, layer_id, step, data) "
    "SELECT kind, layer_id, step, data FROM hists_recent ORDER BY kind, layer_id, step, rowid"
)
HISTS_SOURCE = (
    "(SELECT kind, layer_id, step, data FROM hists "
    "UNION ALL SELECT kind, layer_id, step, data FROM hists_recent)"
)
# Schema 1/2 stores keep one row per number: `stats`, and (2) the unmerged `stats_recent`.
LEGACY_STATS_SOURCE = (
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
