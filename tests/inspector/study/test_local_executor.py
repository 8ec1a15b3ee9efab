"""The local executor: GPU slot planning (pure, any device count), retry-once in process,
and a worker process SIGKILLed mid-run in the process pool (pool rebuilt, cell retried)."""

from __future__ import annotations

import pytest

import inspector.train
from inspector.errors import InspectorError
from inspector.store import open_run
from inspector.study.executors.local import LocalExecutor
from inspector.study.executors.slots import assign, peak_runs_per_device, plan_slots
from inspector.study.runner import local_executor, run_study
from inspector.study.store import STUDIES_DIR, load_study


@pytest.mark.parametrize(
    ("device", "jobs", "gpus", "per_gpu", "expected"),
    [
        ("cpu", 1, 0, 4, ["cpu"]),
        ("cpu", 3, 2, 4, ["cpu", "cpu", "cpu"]),  # GPUs and runs per GPU play no part on CPU
        ("cuda", 1, 1, 1, ["cuda:0"]),
        ("cuda", 8, 1, 3, ["cuda:0"] * 3),  # --jobs plays no part on GPUs
        ("cuda", 1, 2, 2, ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]),
        ("cuda:1", 1, 2, 2, ["cuda:1", "cuda:1"]),
        ("mps", 1, 0, 2, ["mps", "mps"]),
    ],
)
def test_plan_slots(device, jobs, gpus, per_gpu, expected):
    assert plan_slots(device, jobs, gpus, per_gpu) == expected


def test_cells_x_gpus_x_runs_per_gpu():
    """20 cells on 4 GPUs x 3 runs each: 12 slots, each GPU holds at most 3 runs at once,
    every cell placed once, slots loaded within one cell of each other."""
    slots = plan_slots("cuda", gpu_count=4, runs_per_gpu=3)
    assert peak_runs_per_device(slots) == {f"cuda:{i}": 3 for i in range(4)}
    plan = assign(20, slots)
    assert sorted(i for cells in plan for i in cells) == list(range(20))
    assert {len(cells) for cells in plan} == {1, 2}
    first_wave = [slots[k] for k, cells in enumerate(plan) if cells]
    assert peak_runs_per_device(first_wave[:4]) == {f"cuda:{i}": 1 for i in range(4)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cuda", 1, 0, 1), "no CUDA GPU"),
        (("cuda:2", 1, 2, 1), "only 2 CUDA"),
        (("cpu", 0, 0, 1), "--jobs"),
        (("cuda", 1, 1, 0), "--runs-per-gpu"),
    ],
)
def test_plan_slots_refuses_what_cannot_run(args, message):
    with pytest.raises(InspectorError, match=message):
        plan_slots(*args)


def test_the_cell_carries_its_device(tmp_path, grid_spec, event_log):
    """Each started task names the slot's device, and the run records that device."""
    spec = grid_spec(axes={"depth": [1], "skip": ["none"], "seed": [0]}, device="auto")
    executor = event_log(local_executor(spec, jobs=1))
    study = run_study(spec, root=tmp_path, quiet=True, executor=executor)
    (cell,) = study.cells
    assert executor.log[0][0] == "started"
    with open_run(cell["run_id"], tmp_path) as reader:
        assert reader.meta["device"] == "cpu"  # auto on a machine without a GPU


def test_in_process_a_failed_cell_is_retried_once(tmp_path, monkeypatch, grid_spec, event_log):
    real_train = inspector.train.train
    calls: list[str] = []

    def fails_first_time(model, data, config, **kw):
        calls.append(kw["run"])
        if kw["run"].endswith("d1-res-s0") and calls.count(kw["run"]) == 1:
            raise RuntimeError("transient failure")
        return real_train(model, data, config, **kw)

    monkeypatch.setattr(inspector.train, "train", fails_first_time)
    spec = grid_spec(axes={"depth": [1], "skip": ["none", "residual"], "seed": [0]}, steps=3)
    executor = event_log(LocalExecutor(["cpu"]))
    study = run_study(spec, root=tmp_path, quiet=True, executor=executor)
    assert all(c["status"] == "finished" and "error" not in c for c in study.cells)
    assert [c for c, _ in executor.of("retrying")] == [{"depth": 1, "skip": "residual", "seed": 0}]
    assert sorted(calls) == sorted([calls[0], calls[1], calls[1]])
    runs = [d.name for d in tmp_path.iterdir() if d.name != STUDIES_DIR]
    assert sorted(runs) == sorted(c["run_id"] for c in study.cells), "no -2 duplicate"
    progress = dict(executor.of("progress"))
    assert set(progress.values()) == {3}, "each run reported its last step"


def test_a_worker_killed_in_the_pool_is_retried(tmp_path, killer_spec, event_log):
    marker = tmp_path / "killed-once"
    root = tmp_path / "runs"
    spec = killer_spec(marker)
    executor = event_log(LocalExecutor(["cpu", "cpu"]))
    study = run_study(spec, root=root, quiet=True, executor=executor)
    assert marker.exists()
    # the doomed cell is retried once; the calm one only if the dying pool took it down
    retried = [c for c, _ in executor.of("retrying")]
    assert retried.count({"doomed": True, "seed": 0}) == 1
    assert retried.count({"doomed": False, "seed": 0}) <= 1
    assert all(c["status"] == "finished" for c in study.cells)
    assert load_study(study.id, root).to_dict() == study.to_dict()
    runs = sorted(d.name for d in root.iterdir() if d.name != STUDIES_DIR)
    assert runs == sorted(c["run_id"] for c in study.cells)
    for cell in study.cells:
        with open_run(cell["run_id"], root) as reader:
            assert reader.status == "finished"
            steps, _ = reader.scalar("loss")
            assert sorted(steps.tolist()) == list(range(spec.steps))


def test_clear_partial_run_removes_only_this_studys_unfinished_attempts(tmp_path):
    from inspector.store import RunWriter
    from inspector.study.executors.common import clear_partial_run

    def run(name, study, status):
        writer = RunWriter.create(name, root=tmp_path, meta={"study": study}, heartbeat=False)
        writer.set_status(status)
        writer.close()

    run("mine-killed", "S", "interrupted")
    run("mine-finished", "S", "finished")
    run("theirs-killed", "T", "interrupted")
    (tmp_path / "mine-early" / "artifacts").mkdir(parents=True)  # killed while claiming
    (tmp_path / "mine-early" / "run.sqlite").write_bytes(b"")
    (tmp_path / "stranger" / "artifacts").mkdir(parents=True)
    (tmp_path / "stranger" / "notes.txt").write_text("someone's file")
    kept = {
        name: clear_partial_run(tmp_path, name, "S")
        for name in ("mine-killed", "mine-finished", "theirs-killed", "mine-early", "stranger")
    }
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["mine-finished", "stranger", "theirs-killed"]
    # only this study's finished run is handed back, to be adopted by the retry
    assert {n: p.name for n, p in kept.items() if p is not None} == {
        "mine-finished": "mine-finished"
    }


def test_a_retry_adopts_a_run_that_finished_before_its_pool_died(tmp_path, grid_spec):
    """The worker pool died after this cell's run finished but before its result arrived:
    the retry reads the finished run instead of training a ``-2`` copy."""
    from inspector.study.cell import CellTask
    from inspector.study.executors.common import attempt_cell

    spec = grid_spec(axes={"depth": [1], "skip": ["none"], "seed": [0]}, steps=3)
    study = run_study(spec, root=tmp_path, quiet=True, executor=LocalExecutor(["cpu"]))
    cell = study.cells[0]
    task = CellTask(spec, cell["config"], cell["run_id"], study.id, str(tmp_path))
    result = attempt_cell(task)
    assert result.status == "finished" and result.run_id == cell["run_id"]
    assert result.metrics == cell["metrics"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != STUDIES_DIR) == [cell["run_id"]]
