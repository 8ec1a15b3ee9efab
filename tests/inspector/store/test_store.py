"""The run store: round trip, concurrent reading, crashes and bad files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from inspector.errors import StoreError
from inspector.store import RunReader, RunWriter, list_runs, open_run
from inspector.store.schema import DB_NAME, SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[3]


def test_round_trip_meta_records_arrays_scalars(tmp_path):
    w = RunWriter.create("my run/1", root=tmp_path, meta={"model": {"class": "Net"}, "x": [1, 2]})
    w.put_record("architecture", "table", {"rows": [{"name": "a", "params": 3}]}, step=0)
    w.put_record("erf", "conv", {"phase": "init"}, step=0)
    w.put_record("erf", "conv", {"phase": "final"}, step=9)
    w.put_array("kernels/conv1", np.arange(12, dtype=np.float32).reshape(3, 4), step=0)
    w.put_array("kernels/conv1", np.ones((3, 4), np.float32), step=5)
    w.write_scalars([("loss", 0, 2.5), ("loss", 1, 1.5), ("lr", 0, float("nan"))])
    w.close()
    r = open_run(w.dir)
    assert r.meta["x"] == [1, 2] and r.meta["name"] == "my-run-1" and r.id == w.dir.name
    assert r.record("architecture", "table")["rows"][0]["params"] == 3
    assert r.record("erf", "conv")["phase"] == "final"  # latest by default
    assert r.record("erf", "conv", step=0)["phase"] == "init"
    assert [k for k, _, _ in r.records("erf")] == ["conv", "conv"]
    assert r.array_steps("kernels/conv1") == [0, 5]
    np.testing.assert_array_equal(r.array("kernels/conv1", 0), np.arange(12).reshape(3, 4))
    np.testing.assert_array_equal(r.array("kernels/conv1"), np.ones((3, 4)))
    steps, values = r.scalar("loss")
    assert list(steps) == [0, 1] and list(values) == [2.5, 1.5]
    assert np.isnan(r.scalar("lr")[1][0])
    with pytest.raises(StoreError, match="no array"):
        r.array("kernels/nope")
    assert r.record("findings", "all") is None


def test_list_runs_and_unknown_run_message(tmp_path):
    for name in ("a", "b"):
        RunWriter.create(name, root=tmp_path).close()
    runs = list_runs(tmp_path)
    assert sorted(r.name for r in runs) == ["a", "b"]
    with pytest.raises(StoreError, match="Known runs"):
        open_run("zzz", tmp_path)


def test_unique_run_folders_for_the_same_name(tmp_path):
    a = RunWriter.create("same", root=tmp_path)
    b = RunWriter.create("same", root=tmp_path)
    assert a.dir != b.dir
    a.close()
    b.close()


def test_corrupt_foreign_and_newer_files_give_one_clear_error(tmp_path):
    bad = tmp_path / "corrupt"
    bad.mkdir()
    (bad / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="corrupt") as err:
        RunReader(bad)
    assert str(bad) in str(err.value)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    sqlite3.connect(foreign / DB_NAME).execute("CREATE TABLE t(x)").connection.close()
    with pytest.raises(StoreError, match="not written by Inspector"):
        RunReader(foreign)
    w = RunWriter.create("newer", root=tmp_path)
    w._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    w.close()
    with pytest.raises(StoreError, match="newer"):
        RunReader(w.dir)
    with pytest.raises(StoreError, match="not an Inspector run"):
        RunReader(tmp_path)


TRAINER = textwrap.dedent("""
    import sys, time, torch
    from torch import nn
    import inspector
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with inspector.watch(model, run="live", root=sys.argv[1], every=1) as rec:
        for step in range(int(sys.argv[2])):
            loss = model(torch.randn(4, 8)).pow(2).mean()
            opt.zero_grad(); loss.backward(); opt.step()
            rec.step(loss=loss)
            print(step, flush=True)
            time.sleep(float(sys.argv[3]))
""")


def start_trainer(tmp_path: Path, steps: int, pause: float) -> subprocess.Popen:
    script = tmp_path / "trainer.py"
    script.write_text(TRAINER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "runs"), str(steps), str(pause)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_steps(proc: subprocess.Popen, n: int) -> None:
    for _ in range(n):
        assert proc.stdout.readline(), "trainer exited early"


def test_reader_in_another_process_while_writer_writes(tmp_path):
    proc = start_trainer(tmp_path, steps=40, pause=0.05)
    try:
        wait_for_steps(proc, 5)
        reader = open_run(tmp_path / "runs" / "live")
        assert reader.status == "running"
        seen = [len(reader.steps())]
        for _ in range(5):
            time.sleep(0.2)
            seen.append(len(reader.steps()))
        assert seen[-1] > seen[0] >= 1  # tails the run as it grows
        proc.wait(timeout=60)
        assert reader.status == "finished" and len(reader.steps()) == 40
    finally:
        proc.kill()


def test_killed_run_keeps_its_steps_and_reads_interrupted(tmp_path):
    proc = start_trainer(tmp_path, steps=1000, pause=0.02)
    try:
        wait_for_steps(proc, 8)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    reader = open_run(tmp_path / "runs" / "live")
    assert reader.status == "interrupted"  # writer process is gone
    steps = reader.steps()
    assert len(steps) >= 6 and list(steps) == list(
        range(len(steps))
    )  # at most the step in flight lost
    assert len(reader.layer_series("0", "act_mean")[0]) == len(steps)
