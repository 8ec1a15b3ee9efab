"""DDP under torchrun (2 processes, gloo): rank 0 records names without ``module.``; with
ranks="all" one run per rank under one group; FSDP refused with one clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import inspector

WORKER = Path(__file__).with_name("ddp_worker.py")
REPO = Path(__file__).resolve().parents[3]  # the workers import this checkout


@pytest.fixture(scope="module")
def launched(tmp_path_factory) -> tuple[Path, dict[int, dict]]:
    root = tmp_path_factory.mktemp("runs")
    out = tmp_path_factory.mktemp("seen")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    done = subprocess.run(
        [*cmd, str(WORKER), str(root), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return root, {r: json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)}


def runs_named(root: Path, prefix: str) -> list:
    return sorted(
        (inspector.open_run(p) for p in root.iterdir() if p.name.startswith(prefix)),
        key=lambda r: r.meta["rank"],
    )


def test_rank0_records_without_module_prefix_and_other_ranks_pay_nothing(launched) -> None:
    root, seen = launched
    (run,) = runs_named(root, "ddp-main")
    main0, main1 = seen[0]["main"], seen[1]["main"]
    assert main0["recorder"] == "Recorder" and main0["hooks"] > 0
    assert main1 == {**main1, "recorder": "NullRecorder", "hooks": 0, "run_dir": None}
    names = {layer.name for layer in run.layers()}
    assert names == {"0", "1", "2", "0.weight", "0.bias", "2.weight", "2.bias"}
    assert run.meta["rank"] == 0 and run.meta["world_size"] == 2
    assert run.meta["model"]["class"] == "Sequential"
    assert run.status == "finished" and run.steps().tolist() == [0, 1, 2]


def test_recorded_gradients_are_local_activations_and_all_reduced_parameters(launched) -> None:
    root, seen = launched
    (run,) = runs_named(root, "ddp-main")
    for layer, want in seen[0]["main"]["act_grad_norm"].items():
        assert run.at_step("grad_norm", 0)[layer] == pytest.approx(want, rel=1e-5)
    for param, want in seen[0]["main"]["param_grad_norm"].items():
        assert run.at_step("g_norm", 0, role="param")[param] == pytest.approx(want, rel=1e-5)


def test_all_ranks_write_one_run_each_under_one_group(launched) -> None:
    root, seen = launched
    runs = runs_named(root, "ddp-all")
    assert [r.meta["name"] for r in runs] == ["ddp-all-rank0", "ddp-all-rank1"]
    assert [r.meta["rank"] for r in runs] == [0, 1]
    assert {r.meta["world_size"] for r in runs} == {2}
    assert len({r.meta["group"] for r in runs}) == 1 and runs[0].meta["group"].startswith(
        "ddp-all-"
    )
    # activation gradients are each rank's own, before the all-reduce...
    for run, rank in zip(runs, (0, 1), strict=True):
        for layer, want in seen[rank]["all"]["act_grad_norm"].items():
            assert run.at_step("grad_norm", 0)[layer] == pytest.approx(want, rel=1e-5)
    a, b = (r.at_step("grad_norm", 0) for r in runs)
    assert not np.allclose(list(a.values()), list(b.values()))
    # ...parameter gradients are the all-reduced mean: the same on both ranks
    pa, pb = (r.at_step("g_norm", 0, role="param") for r in runs)
    assert pa == pytest.approx(pb, rel=1e-6)


def test_fsdp_is_refused_with_one_clear_message(launched) -> None:
    root, seen = launched
    for rank in (0, 1):
        for kind, message in seen[rank]["fsdp"].items():
            assert message is not None, kind
            assert "FSDP-sharded models are not supported" in message
            assert "without FSDP" in message
    assert not [p for p in root.iterdir() if p.name.startswith("fsdp")]  # no run folder left
