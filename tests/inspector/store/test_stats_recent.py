"""Schema 2: statistics are appended to stats_recent and merged into stats in sorted
batches; readers see the same rows whatever is merged, and schema-1 runs still read."""

from __future__ import annotations

import sqlite3

import numpy as np

from inspector.store.reader import RunReader
from inspector.store.schema import DB_NAME, MERGE_ROWS
from inspector.store.writer import RunWriter


def _write(run_dir, steps: int, layers: int = 3):
    w = RunWriter.create(run_dir=run_dir, heartbeat=False)
    ids = w.register_layers(
        [
            {"name": f"l{i}", "role": "module", "type": "Linear", "position": i}
            for i in range(layers)
        ]
    )
    for step in range(steps):
        rows = [
            (stat, lid, step * 10.0 + lid)
            for stat in ("act_mean", "act_std")
            for lid in ids.values()
        ]
        w.write_step(step, float(step), 0.1, True, stats=rows)
    return w, ids


def _counts(run_dir) -> tuple[int, int]:
    with sqlite3.connect(run_dir / DB_NAME) as c:
        main = c.execute("SELECT count(*) FROM stats").fetchone()[0]
        recent = c.execute("SELECT count(*) FROM stats_recent").fetchone()[0]
    return main, recent


def test_live_run_reads_unmerged_rows_and_close_merges(tmp_path):
    run = tmp_path / "r"
    w, ids = _write(run, steps=5)
    assert _counts(run) == (0, 30)  # all still in stats_recent
    reader = RunReader(run)
    steps, values = reader.layer_series("l1", "act_std")
    np.testing.assert_array_equal(steps, np.arange(5))
    np.testing.assert_array_equal(values, np.arange(5) * 10.0 + ids["l1"])
    assert reader.at_step("act_mean", 3) == {f"l{i}": 30.0 + ids[f"l{i}"] for i in range(3)}
    assert reader.stat_names() == ["act_mean", "act_std"]
    w.close()
    assert _counts(run) == (30, 0)
    after = RunReader(run)
    np.testing.assert_array_equal(after.series("act_mean").values, reader.series("act_mean").values)


def test_batches_merge_once_the_staging_table_is_full(tmp_path):
    run = tmp_path / "r"
    per_step = 2 * 40
    steps = MERGE_ROWS // per_step + 3
    w, ids = _write(run, steps=steps, layers=40)
    main, recent = _counts(run)
    assert main > 0 and main + recent == steps * per_step and recent < MERGE_ROWS
    series = RunReader(run).series("act_std")
    assert series.values.shape == (40, steps) and not np.isnan(series.values).any()
    w.close()


def test_schema_1_run_without_stats_recent_still_reads(tmp_path):
    run = tmp_path / "r"
    w, ids = _write(run, steps=4)
    w.close()
    with sqlite3.connect(run / DB_NAME) as c:  # what a schema-1 writer left behind
        c.execute("DROP TABLE stats_recent")
        c.execute("PRAGMA user_version=1")
    steps, values = RunReader(run).layer_series("l2", "act_mean")
    np.testing.assert_array_equal(values, np.arange(4) * 10.0 + ids["l2"])
