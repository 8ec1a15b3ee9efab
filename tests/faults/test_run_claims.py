"""Issue 13.3: two processes asking for the same run name never share one store."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import pytest

from inspector.errors import StoreError
from inspector.store import RunWriter
from inspector.store.schema import DB_NAME

PAIRS = 30


def _create(root: str, name: str, barrier, out) -> None:
    barrier.wait()  # both processes of a pair ask at the same moment
    writer = RunWriter.create(name, root=root, heartbeat=False)
    writer.write_scalars([("loss", 0, float(mp.current_process().pid))])
    writer.close()
    out.put(writer.dir.name)


def test_raced_pairs_get_distinct_folders(tmp_path):
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = []
    for i in range(PAIRS):
        barrier = ctx.Barrier(2)
        procs += [
            ctx.Process(target=_create, args=(str(tmp_path), f"run{i}", barrier, out))
            for _ in range(2)
        ]
    for p in procs:
        p.start()
    names = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(set(names)) == 2 * PAIRS  # nobody shares a folder
    for i in range(PAIRS):
        assert {n for n in names if n.split("-")[0] == f"run{i}"} == {f"run{i}", f"run{i}-2"}
    for name in names:  # each store holds exactly one writer's loss curve
        conn = sqlite3.connect(Path(tmp_path, name, DB_NAME))
        assert conn.execute("SELECT count(*) FROM scalars").fetchone()[0] == 1
        conn.close()


def test_an_explicit_run_dir_is_claimed_once(tmp_path):
    target = tmp_path / "exact"
    RunWriter.create("x", run_dir=target).close()
    with pytest.raises(StoreError, match="already holds a run"):
        RunWriter.create("x", run_dir=target)


def test_an_empty_folder_of_that_name_is_skipped(tmp_path):
    (tmp_path / "taken").mkdir()  # not a run, but not ours to write into either
    writer = RunWriter.create("taken", root=tmp_path)
    assert writer.dir.name == "taken-2"
    writer.close()


def test_runs_root_that_is_a_file_is_one_clear_error(tmp_path) -> None:
    from inspector.errors import StoreError
    from inspector.store.writer import RunWriter

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="a file is in the way"):
        RunWriter.create("run", root=blocker)
    with pytest.raises(StoreError, match="cannot create a run folder .*Not a directory"):
        RunWriter.create("run", root=blocker / "below")
