"""Issue 13.9: a bad value on the command line gets one clear message, exit code 2, and
creates nothing (no run folder, no study, no report file).

Every case runs the real CLI (``inspector.cli.main``, the console script's entry point);
the model file that calls ``sys.exit`` runs the installed ``inspector`` script in a
subprocess, since the bug there was the process's own exit code.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.errors import InspectorError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# What a run would be given if the bad value slipped through: tiny, so a regression
# shows as a failed assertion (a folder was created), not as a long test.
TINY = ["--steps", "2", "--batch-size", "8", "--quiet"]
SMALL_DATA = ["--data-arg", "n_train=16", "--data-arg", "n_test=8"]

RUN_CASES = [
    (["--momentum", "-1"], "--momentum"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--epochs", "nan"], "--epochs"),
    (["--epochs", "inf"], "--epochs"),
    (["--seed", "1234567890123456789012"], "--seed"),
    (["--seed", "-1"], "--seed"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--clip", "-1"], "--clip"),
    (["--clip", "nan"], "--clip"),
    (["--every", "budget:-1"], "budget"),
    (["--every", "budget:nan"], "budget"),
    (["--every", "every:0"], "every"),
    (["--every", "-3"], "--every"),
    (["--every", "abc"], "schedule"),
    (["--batch-size", "0"], "--batch-size"),
    (["--model-arg", "width=1e999"], "finite"),
    (["--model-arg", "depth=10000000000"], "depth"),  # building it never ended
]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_clear_error(code: int, err: str, fragment: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]


def nothing_in(root: Path) -> bool:
    return not root.exists() or not any(root.iterdir())


@pytest.mark.parametrize(("extra", "fragment"), RUN_CASES, ids=lambda v: " ".join(v))
def test_run_rejects_bad_training_values(tmp_path, capsys, extra, fragment):
    root = tmp_path / "runs"
    argv = ["run", "--model", "mlp", "--data", "shapes", "--runs-root", str(root)]
    code, _, err = run_cli([*argv, *TINY, *SMALL_DATA, *extra], capsys)
    assert_one_clear_error(code, err, fragment)
    assert nothing_in(root)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--threshold", "vanishing_warn=nan"], "vanishing_warn"),
        (["--threshold", "vanishing_warn=inf"], "vanishing_warn"),
        (["--threshold", "no_such_threshold=1"], "no_such_threshold"),
        (["--input-shape", "1000,1000,1000"], "--input-shape"),
        (["--input-shape", "3,1024,1024", "--batch-size", "128"], "batch"),
        (["--lr", "nan"], "--lr"),
    ],
    ids=lambda v: " ".join(v),
)
def test_diagnose_rejects_bad_values_before_training(tmp_path, capsys, extra, fragment):
    root = tmp_path / "runs"
    argv = ["diagnose", "mlp", "--runs-root", str(root), "--steps", "2", "--quiet", *extra]
    code, _, err = run_cli(argv, capsys)
    assert_one_clear_error(code, err, fragment)
    assert nothing_in(root)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--input-shape", "100000,100000,100000"], "values per example"),
        (["--input-shape", "3,32,32", "--num-classes", "-3"], "--num-classes"),
        (["--input-shape", "3,32,32", "--num-classes", "0"], "--num-classes"),
        (["--input-shape", "3,32,32", "--vocab-size", "0"], "--vocab-size"),
        (["--input-shape", "0,1"], "--input-shape"),
        (["--model-arg", "width=100000000"], "memory"),
    ],
    ids=lambda v: " ".join(v),
)
def test_summary_rejects_bad_sizes(capsys, extra, fragment):
    code, _, err = run_cli(["summary", "mlp", *extra], capsys)
    assert_one_clear_error(code, err, fragment)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--lr", "nan"], "--lr"),
        (["--momentum", "1"], "--momentum"),
        (["--every", "budget:-1"], "budget"),
        (["--steps", "0"], "--steps"),
        (["--seeds", "0"], "--seeds"),
        (["--jobs", "0"], "--jobs"),
        (["--loss-threshold", "nan"], "--loss-threshold"),
        (["--depths", "2,1111111111111111111111111111111111111111"], "--depths"),  # hung
    ],
    ids=lambda v: " ".join(v),
)
def test_study_rejects_bad_values_before_any_cell(tmp_path, capsys, extra, fragment):
    root = tmp_path / "runs"
    argv = ["study", "depth", "--depths", "2", "--runs-root", str(root), "--quiet", *extra]
    code, _, err = run_cli(argv, capsys)
    assert_one_clear_error(code, err, fragment)
    assert nothing_in(root)  # no study record, no run


def test_a_runs_root_that_is_a_file_is_refused_by_every_command(tmp_path, capsys):
    afile = tmp_path / "runs.txt"
    afile.write_text("not a folder")
    for argv in (
        ["demo", "--no-dashboard", "--size", "tiny", "--quiet"],
        ["run", "--model", "mlp", *TINY],
        ["ls"],
        ["study", "ls"],
        ["report", "somerun"],
        ["dashboard", "--no-browser"],
    ):
        code, _, err = run_cli([*argv, "--runs-root", str(afile)], capsys)
        assert_one_clear_error(code, err, "is a file")
        code, _, err = run_cli([*argv, "--runs-root", str(afile / "inside")], capsys)
        assert_one_clear_error(code, err, "is a file")
    assert afile.read_text() == "not a folder"


def test_a_runs_root_file_from_the_environment_is_refused(tmp_path, capsys, monkeypatch):
    afile = tmp_path / "runs.txt"
    afile.write_text("not a folder")
    monkeypatch.setenv("INSPECTOR_RUNS_ROOT", str(afile))
    code, _, err = run_cli(["run", "--model", "mlp", *TINY, *SMALL_DATA], capsys)
    assert_one_clear_error(code, err, "INSPECTOR_RUNS_ROOT")
    assert afile.read_text() == "not a folder"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """One real finished run to write reports of."""
    import torch
    from torch import nn

    from inspector.train import TrainConfig, train

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("cli_inputs") / "runs"
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.ReLU(), nn.Linear(8, 6))
    result = train(
        model,
        "shapes",
        TrainConfig(steps=2, batch_size=8, every=1),
        run="tiny",
        root=root,
        quiet=True,
        data_options={"n_train": 16, "n_test": 8},
    )
    assert result.status == "finished"
    return root


@pytest.mark.parametrize("where", ["/proc/inspector-report.html", "/proc/x/y.html", "FILE/x.md"])
def test_report_to_an_unwritable_place_is_one_error(recorded, tmp_path, capsys, where):
    afile = tmp_path / "afile"
    afile.write_text("")
    output = where.replace("FILE", str(afile))
    code, _, err = run_cli(["report", "tiny", "--runs-root", str(recorded), "-o", output], capsys)
    assert_one_clear_error(code, err, "cannot ")
    assert not Path(output).exists()
    assert afile.read_text() == ""


def test_model_file_calling_sys_exit_is_reported_not_silent(tmp_path):
    """Before: rc 3 and no message at all (SystemExit passed through the import)."""
    user = tmp_path / "exits.py"
    user.write_text("import sys\n\nsys.exit(3)\n")
    script = Path(sys.executable).with_name("inspector")
    root = tmp_path / "runs"
    proc = subprocess.run(
        [str(script), "run", "--model", f"{user}:build", "--runs-root", str(root), *TINY],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "sys.exit(3)" in proc.stderr and f"{user}, line 3" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert nothing_in(root)


def test_factory_calling_sys_exit_is_reported(tmp_path, capsys):
    user = tmp_path / "exits_late.py"
    user.write_text("import sys\n\n\ndef build():\n    sys.exit('no GPU here')\n")
    root = tmp_path / "runs"
    argv = ["run", "--model", f"{user}:build", "--runs-root", str(root), *TINY]
    code, _, err = run_cli(argv, capsys)
    assert_one_clear_error(code, err, "sys.exit('no GPU here')")
    assert nothing_in(root)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": math.nan},
        {"lr": math.inf},
        {"clip_grad_norm": -1.0},
        {"clip_grad_norm": math.nan},
        {"momentum": -1.0},
        {"weight_decay": -1e-4},
        {"epochs": math.nan},
        {"seed": 10**22},
        {"every": "budget:-1"},
        {"every": "abc"},
        {"every": 0},
        {"eval_every": 0},
        {"steps": 0},
    ],
    ids=str,
)
def test_train_config_refuses_the_same_values_in_python(kwargs):
    from inspector.train import TrainConfig

    with pytest.raises(InspectorError):
        TrainConfig(**kwargs)


def test_good_values_still_pass():
    from inspector.train import TrainConfig

    config = TrainConfig(lr=1e-3, momentum=0.0, clip_grad_norm=1.0, seed=2**32 - 1, every=5)
    assert config.every == 5
    assert TrainConfig(every="budget:0.03").every == "budget:0.03"
    assert TrainConfig(every="every:2").every == "every:2"
