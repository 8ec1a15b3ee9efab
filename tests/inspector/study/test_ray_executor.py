"""Studies on Ray: a 2x2 grid on a real local Ray instance, shared and unshared runs roots,
progress streamed back, and a worker SIGKILLed mid-run (retried once, nothing else lost)."""

from __future__ import annotations

import sys

import pytest

from inspector.cli import main
from inspector.errors import InspectorError
from inspector.store import RunReader, open_run
from inspector.study.executors.ray_executor import PROBE_NAME, RayExecutor
from inspector.study.executors.ray_worker import sees_shared_root
from inspector.study.metrics import run_metrics
from inspector.study.runner import run_study
from inspector.study.store import STUDIES_DIR, load_study

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray instance (2 CPUs, no dashboard) for the whole module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def run_dirs(root):
    return sorted(d.name for d in root.iterdir() if d.is_dir() and d.name != STUDIES_DIR)


def assert_complete(study, root, steps):
    """Every cell finished, its run finished with every step, the study file agrees."""
    assert all(c["status"] == "finished" and "error" not in c for c in study.cells)
    assert load_study(study.id, root).to_dict() == study.to_dict()
    assert run_dirs(root) == sorted(c["run_id"] for c in study.cells), "one run per cell"
    for cell in study.cells:
        with open_run(cell["run_id"], root) as reader:
            assert reader.status == "finished"
            assert reader.meta["study"] == study.id
            assert reader.meta["study_config"] == cell["config"]
            loss_steps, _ = reader.scalar("loss")
            assert sorted(loss_steps.tolist()) == list(range(steps))
        assert cell["metrics"]["final_loss"] > 0


def test_2x2_grid_on_ray_with_a_shared_runs_root(ray_cluster, tmp_path, grid_spec, event_log):
    spec = grid_spec()
    executor = event_log(RayExecutor(cpus_per_run=1))
    study = run_study(spec, root=tmp_path, quiet=True, executor=executor)
    assert len(study.cells) == 4
    assert_complete(study, tmp_path, spec.steps)
    # every run streamed its progress back; the last report of each is its last step
    last = {name: steps for name, steps in executor.of("progress")}
    assert sorted(last) == sorted(c["run_id"] for c in study.cells)
    assert set(last.values()) == {spec.steps}
    assert executor.of("retrying") == []
    assert not (tmp_path / STUDIES_DIR / study.id / PROBE_NAME).exists(), "probe removed"
    # rerunning the command resumes: nothing left to run
    again = event_log(RayExecutor())
    assert run_study(spec, root=tmp_path, quiet=True, executor=again).to_dict() == study.to_dict()
    assert again.log == []


def test_without_a_shared_file_system_runs_are_shipped_back(
    ray_cluster, tmp_path, grid_spec, event_log
):
    spec = grid_spec(axes={"depth": [1, 2], "skip": ["none", "residual"], "seed": [1]})
    study = run_study(spec, root=tmp_path, quiet=True, executor=RayExecutor(shared_fs=False))
    assert_complete(study, tmp_path, spec.steps)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".unpack-")]
    assert leftovers == []
    # the unpacked copy is the run the worker measured: its metrics, recomputed here, agree
    for cell in study.cells:
        with open_run(cell["run_id"], tmp_path) as reader:
            assert run_metrics(reader, spec.loss_threshold) == cell["metrics"]


def test_probe_detects_whether_the_worker_shares_the_runs_root(tmp_path):
    probe = tmp_path / PROBE_NAME
    assert not sees_shared_root(str(probe), "t0k3n")  # absent: another machine's folder
    probe.write_text("t0k3n")
    assert sees_shared_root(str(probe), "t0k3n")
    assert not sees_shared_root(str(probe), "other")  # another driver's study
    assert not sees_shared_root(None, "t0k3n")  # --no-shared-fs


@pytest.mark.parametrize("shared_fs", [True, False], ids=["shared-fs", "no-shared-fs"])
def test_a_worker_killed_mid_run_is_retried_once_and_nothing_else_is_lost(
    ray_cluster, tmp_path, killer_spec, event_log, shared_fs
):
    marker = tmp_path / "killed-once"
    root = tmp_path / "runs"
    spec = killer_spec(marker)
    executor = event_log(RayExecutor(shared_fs=shared_fs))
    study = run_study(spec, root=root, quiet=True, executor=executor)
    assert marker.exists(), "the doomed cell's first attempt was killed"
    retried = executor.of("retrying")
    assert [config for config, _ in retried] == [{"doomed": True, "seed": 0}]
    assert "Ray worker failed" in retried[0][1]
    assert sorted(a for c, a in executor.of("started") if c["doomed"]) == [1, 2]
    assert [a for c, a in executor.of("started") if not c["doomed"]] == [1]
    assert_complete(study, root, spec.steps)


def test_a_cell_failing_twice_is_marked_failed(ray_cluster, tmp_path, grid_spec):
    spec = grid_spec(
        axes={"depth": [1], "skip": ["none"], "seed": [0]}, model_args={"width": 4, "bogus": 1}
    )
    study = run_study(spec, root=tmp_path, quiet=True, executor=RayExecutor())
    (cell,) = study.cells
    assert cell["status"] == "failed"
    assert cell["error"].startswith("failed on all 2 attempts")
    assert "bogus" in cell["error"]
    assert run_dirs(tmp_path) == []


def test_cli_runs_a_study_on_ray(ray_cluster, tmp_path, capsys):
    root = tmp_path / "runs"
    argv = [
        "study", "grid", "--model", "plain_cnn", "--axis", "depth=1,2",
        "--axis", "skip=none,residual", "--model-arg", "width=4",
        "--data-arg", "n_train=64", "--data-arg", "n_test=32", "--steps", "4",
        "--batch-size", "16", "--device", "cpu", "--quiet", "--runs-root", str(root),
        "--executor", "ray", "--cpus-per-run", "1", "--no-shared-fs",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "4/4 runs finished" in out
    assert len(run_dirs(root)) == 4
    for name in run_dirs(root):
        with RunReader(root / name) as reader:
            assert reader.status == "finished"


def test_ray_missing_is_one_clear_message(monkeypatch, tmp_path, capsys):
    from inspector.study.executors import ray_executor

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: import raises
    with pytest.raises(InspectorError, match=r"pip install 'inspector\[ray\]'"):
        ray_executor.RayExecutor()
    argv = ["study", "grid", "--model", "plain_cnn", "--axis", "depth=1", "--executor", "ray"]
    assert main([*argv, "--runs-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "needs Ray" in err and "Traceback" not in err


def test_gpu_request_with_a_cpu_device_is_refused():
    with pytest.raises(Exception, match="Ray assigns the GPU"):
        RayExecutor(gpus_per_run=1).cell_device("cpu")
    assert RayExecutor(gpus_per_run=0.5).cell_device("auto") == "cuda"
    assert RayExecutor().cell_device("cpu") == "cpu"
