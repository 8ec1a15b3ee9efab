"""Issue 13.4: finished runs open read-only, leave no -wal/-shm files, and are readable from
a folder the reader cannot write (checked as the unprivileged user ``nobody``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from inspector.store import RunReader, RunWriter, open_run
from inspector.store.schema import DB_NAME

REPO = Path(__file__).resolve().parents[2]


def finished_run(root: Path, name: str = "done") -> Path:
    w = RunWriter.create(name, root=root, meta={"model": {"name": "m"}})
    w.write_scalars([("loss", 0, 2.0), ("loss", 1, 1.0)])
    w.set_status("finished")
    w.close()
    return w.dir


def side_files(run_dir: Path) -> list[str]:
    return sorted(p.name for p in run_dir.iterdir() if p.name.startswith(DB_NAME + "-"))


def test_reading_a_finished_run_creates_no_side_files(tmp_path):
    run_dir = finished_run(tmp_path)
    assert side_files(run_dir) == []
    with open_run(run_dir) as r:
        assert r.status == "finished" and list(r.scalar("loss")[1]) == [2.0, 1.0]
        uri = r._conn.execute("PRAGMA database_list").fetchall()
        assert uri  # the connection works
        with pytest.raises(Exception, match="readonly|read-only|attempt to write"):
            r._conn.execute("INSERT INTO scalars VALUES ('x', 0, 0)")
    assert side_files(run_dir) == []


def test_a_live_run_is_still_followed_through_its_wal(tmp_path):
    w = RunWriter.create("live", root=tmp_path)
    w.write_scalars([("loss", 0, 1.0)])
    reader = RunReader(w.dir)
    w.write_scalars([("loss", 1, 0.5)])
    assert len(reader.scalar("loss")[0]) == 2 and reader.status == "running"
    w.close()
    reader.close()


def _as_nobody(code: str) -> subprocess.CompletedProcess:
    runner = shutil.which("setpriv")
    if os.geteuid() != 0 or runner is None:
        pytest.skip("needs root and setpriv to drop to the user nobody")
    cmd = [runner, "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": "/tmp"}
    return subprocess.run(
        [*cmd, code], capture_output=True, text=True, cwd="/", env=env, timeout=300
    )


@pytest.fixture
def shared_tmp():
    """A folder other users can enter (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="inspector-ro-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_readable_by_another_user_on_a_folder_they_cannot_write(shared_tmp):
    root = shared_tmp / "ro"
    run_dir = finished_run(root)
    for p in (root, run_dir):
        p.chmod(0o755)  # others may read and enter, never write
    (run_dir / DB_NAME).chmod(0o644)
    probe = _as_nobody("import os; print(os.access('/tmp', os.R_OK))")
    if probe.returncode != 0:
        pytest.skip(f"cannot run Python as nobody here: {probe.stderr[-300:]}")
    code = (
        "import json, os\n"
        "from inspector.store import list_runs, open_run\n"
        f"root = {str(root)!r}\n"
        "assert not os.access(root, os.W_OK)\n"
        "runs = list_runs(root)\n"
        "r = open_run(runs[0].path)\n"
        "print(json.dumps([len(runs), r.status, list(r.scalar('loss')[1])]))\n"
    )
    done = _as_nobody(code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == [1, "finished", [2.0, 1.0]]
    assert side_files(run_dir) == []
    ls = _as_nobody(
        "import sys; from inspector.cli import main; "
        f"sys.exit(main(['ls', '--runs-root', {str(root)!r}]))"
    )
    assert ls.returncode == 0 and "done" in ls.stdout, ls.stderr[-2000:]


def test_ls_warns_about_a_run_it_cannot_read(tmp_path, capsys):
    from inspector.cli import main

    finished_run(tmp_path, "good")
    bad = tmp_path / "broken"
    bad.mkdir()
    (bad / DB_NAME).write_bytes(b"not a database" * 200)
    assert main(["ls", "--runs-root", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "good" in out
    assert "broken" in err and "warning" in err  # not silently dropped


def test_a_reader_sees_findings_written_later_into_a_finished_run(tmp_path):
    """``inspector diagnose --run`` writes into a finished run; an open reader follows."""
    from inspector.store.writer import connect

    run_dir = finished_run(tmp_path)
    reader = open_run(run_dir)
    assert reader.record("findings", "all") is None
    writer = RunWriter(run_dir, connect(run_dir / DB_NAME))
    writer.put_record("findings", "all", {"findings": [1]})
    assert reader.record("findings", "all") == {"findings": [1]}
    writer.close()
    reader.close()


def test_a_reader_sees_a_write_made_and_closed_while_it_was_open(tmp_path):
    """The writer closed again (its -wal is gone) before the reader looked: still seen."""
    from inspector.store.writer import connect

    run_dir = finished_run(tmp_path)
    reader = open_run(run_dir)
    assert reader.record("findings", "all") is None
    writer = RunWriter(run_dir, connect(run_dir / DB_NAME))
    writer.put_record("findings", "all", {"findings": [2]})
    writer.close()
    assert not (run_dir / (DB_NAME + "-wal")).exists()
    assert reader.record("findings", "all") == {"findings": [2]}
    reader.close()
