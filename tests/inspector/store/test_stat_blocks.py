"""Schema 3: a step's statistics are one float64 block, histograms are staged in
hists_recent and merged in sorted batches; readers see the same numbers whatever is merged,
and schema 1/2 stores (one row per number) still read."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from inspector.probes.bins import edges_for
from inspector.store.reader import RunReader
from inspector.store.schema import DB_NAME, HIST_MERGE_ROWS
from inspector.store.writer import RunWriter


def _writer(run_dir, layers: int = 3) -> tuple[RunWriter, dict[str, int]]:
    w = RunWriter.create(run_dir=run_dir, heartbeat=False)
    ids = w.register_layers(
        [
            {"name": f"l{i}", "role": "module", "type": "Linear", "position": i}
            for i in range(layers)
        ]
    )
    return w, ids


def _rows(step: int, ids: dict[str, int]) -> list[tuple[str, int, float]]:
    return [
        (stat, lid, step * 10.0 + lid) for stat in ("act_mean", "act_std") for lid in ids.values()
    ]


def _count(run_dir, table: str) -> int:
    with sqlite3.connect(run_dir / DB_NAME) as c:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_one_block_per_step_one_layout_per_column_set(tmp_path):
    run = tmp_path / "r"
    w, ids = _writer(run)
    for step in range(5):
        w.write_step(step, float(step), 0.1, True, stats=_rows(step, ids))
    assert _count(run, "stat_blocks") == 5 and _count(run, "stat_layouts") == 1
    reader = RunReader(run)  # live: read before close
    steps, values = reader.layer_series("l1", "act_std")
    np.testing.assert_array_equal(steps, np.arange(5))
    np.testing.assert_array_equal(values, np.arange(5) * 10.0 + ids["l1"])
    assert reader.at_step("act_mean", 3) == {f"l{i}": 30.0 + ids[f"l{i}"] for i in range(3)}
    assert reader.stat_names() == ["act_mean", "act_std"]
    # the live reader follows new blocks, also with a new layout (a layer seen later)
    w.write_step(5, 5.0, 0.1, True, stats=[*_rows(5, ids), ("dead_frac", ids["l2"], 0.25)])
    assert _count(run, "stat_layouts") == 2
    assert reader.layer_series("l2", "dead_frac")[1].tolist() == [0.25]
    assert reader.series("act_mean").values.shape == (3, 6)
    w.close()
    after = RunReader(run)
    np.testing.assert_array_equal(after.series("act_mean").values, reader.series("act_mean").values)


@pytest.mark.parametrize("value", [1e-300, -1e308, 5e-324, float("inf"), -float("inf"), 0.1])
def test_values_round_trip_exactly(tmp_path, value):
    w, ids = _writer(tmp_path / "r", layers=1)
    w.write_step(
        0, 0.0, None, True, stats=[("act_max", ids["l0"], value), ("act_nan", ids["l0"], None)]
    )
    w.close()
    reader = RunReader(tmp_path / "r")
    assert reader.at_step("act_max", 0)["l0"] == value
    assert np.isnan(reader.at_step("act_nan", 0)["l0"])


def test_a_step_written_twice_keeps_its_last_value(tmp_path):
    w, ids = _writer(tmp_path / "r", layers=1)
    lid = ids["l0"]
    w.write_step(0, 0.0, None, True, stats=[("act_mean", lid, 1.0), ("act_std", lid, 2.0)])
    w.write_step(1, 1.0, None, True, stats=[("act_mean", lid, 3.0)])
    w.write_step(0, 0.0, None, True, stats=[("act_mean", lid, 4.0)])
    w.close()
    reader = RunReader(tmp_path / "r")
    assert reader.layer_series("l0", "act_mean")[1].tolist() == [4.0, 3.0]
    assert reader.layer_series("l0", "act_std")[1].tolist() == [2.0]


def test_series_places_each_layer_on_the_shared_step_axis(tmp_path):
    w, ids = _writer(tmp_path / "r", layers=2)
    for step in range(6):
        rows = [("g_norm", ids["l0"], float(step))]
        if step % 2:
            rows.append(("g_norm", ids["l1"], -float(step)))
        w.write_step(step, float(step), None, True, stats=rows)
    w.close()
    series = RunReader(tmp_path / "r").series("g_norm", max_steps=3)
    assert series.layers == ["l0", "l1"] and series.steps.tolist() == [0, 2, 5]
    np.testing.assert_array_equal(series.values[0], [0.0, 2.0, 5.0])
    np.testing.assert_array_equal(series.values[1], [np.nan, np.nan, -5.0])


def test_a_rolled_back_step_forgets_its_layout(tmp_path):
    w, ids = _writer(tmp_path / "r", layers=1)
    lid = ids["l0"]
    with pytest.raises(sqlite3.IntegrityError):  # a histogram without data: NOT NULL
        w.write_step(0, 0.0, None, True, stats=[("act_mean", lid, 1.0)], hists=[("act", lid, None)])
    w.write_step(1, 1.0, None, True, stats=[("act_mean", lid, 2.0)])
    w.close()
    assert RunReader(tmp_path / "r").layer_series("l0", "act_mean")[1].tolist() == [2.0]


def test_a_malformed_block_is_skipped_and_named(tmp_path):
    w, ids = _writer(tmp_path / "r", layers=1)
    for step in range(3):
        w.write_step(step, float(step), None, True, stats=[("act_mean", ids["l0"], float(step))])
    w.close()
    with sqlite3.connect(tmp_path / "r" / DB_NAME) as c:
        c.execute("UPDATE stat_blocks SET data = x'0102' WHERE step = 1")
    reader = RunReader(tmp_path / "r")
    assert reader.layer_series("l0", "act_mean")[1].tolist() == [0.0, 2.0]
    assert any("malformed statistics block" in p for p in reader.problems)


def _hist_rows(ids: dict[str, int]) -> list[tuple[str, int, bytes]]:
    blob = np.zeros(len(edges_for("value")) + 1, np.int32)
    return [("act", lid, (blob + lid).tobytes()) for lid in ids.values()]


def test_histograms_merge_once_the_staging_table_is_full_and_at_close(tmp_path):
    run = tmp_path / "r"
    w, ids = _writer(run, layers=40)
    steps = HIST_MERGE_ROWS // 40 + 3
    for step in range(steps):
        w.write_step(step, float(step), None, True, hists=_hist_rows(ids))
    main, recent = _count(run, "hists"), _count(run, "hists_recent")
    assert main > 0 and main + recent == steps * 40 and recent < HIST_MERGE_ROWS
    live_steps, _, live_counts = RunReader(run).histogram("l7", "act")
    np.testing.assert_array_equal(live_steps, np.arange(steps))
    assert (live_counts == ids["l7"]).all()
    w.close()
    assert _count(run, "hists_recent") == 0
    got_steps, _, got_counts = RunReader(run).histogram("l7", "act")
    np.testing.assert_array_equal(got_steps, live_steps)
    np.testing.assert_array_equal(got_counts, live_counts)


LEGACY = """
CREATE TABLE stats (stat TEXT NOT NULL, layer_id INTEGER NOT NULL, step INTEGER NOT NULL,
    value REAL, PRIMARY KEY (stat, layer_id, step)) WITHOUT ROWID;
CREATE TABLE stats_recent (stat TEXT NOT NULL, layer_id INTEGER NOT NULL, step INTEGER NOT NULL,
    value REAL);
"""


@pytest.mark.parametrize("version", [1, 2])
def test_schema_1_and_2_stores_still_read(tmp_path, version):
    """What earlier writers left: one row per number in stats (and, schema 2, the newest in
    stats_recent); histograms in hists only."""
    run = tmp_path / "r"
    w, ids = _writer(run)
    for step in range(4):
        w.write_step(step, float(step), None, True, hists=_hist_rows(ids))
    w.close()
    with sqlite3.connect(run / DB_NAME) as c:
        c.executescript(
            "DROP TABLE stat_blocks; DROP TABLE stat_layouts; DROP TABLE hists_recent;" + LEGACY
        )
        rows = [(s, lid, step, v) for step in range(4) for s, lid, v in _rows(step, ids)]
        c.executemany("INSERT INTO stats VALUES (?, ?, ?, ?)", rows[:12])
        if version == 1:
            c.execute("DROP TABLE stats_recent")
            c.executemany(
                "INSERT INTO stats VALUES (?, ?, ?, ?)",
                rows[12:],
            )
        else:
            c.executemany(
                "INSERT INTO stats_recent VALUES (?, ?, ?, ?)",
                rows[12:],
            )
        c.execute("UPDATE stats SET value = NULL WHERE stat = 'act_std' AND step = 0")
        c.execute("UPDATE stats SET value = 'text' WHERE stat = 'act_std' AND step = 1")
        c.execute(f"PRAGMA user_version={version}")
    reader = RunReader(run)
    steps, values = reader.layer_series("l2", "act_mean")
    np.testing.assert_array_equal(steps, np.arange(4))
    np.testing.assert_array_equal(values, np.arange(4) * 10.0 + ids["l2"])
    assert np.isnan(reader.at_step("act_std", 0)["l1"])
    assert np.isnan(reader.at_step("act_std", 1)["l1"])  # a damaged value reads as NaN
    assert reader.stat_names() == ["act_mean", "act_std"]
    assert reader.series("act_mean").values.shape == (3, 4)
    assert len(reader.histogram("l0", "act")[0]) == 4
