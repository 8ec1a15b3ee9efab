"""`inspector study depth|grid|zoo|ls|show` end to end on tiny grids, and bad input."""

from __future__ import annotations

import pytest

from inspector.cli import main
from inspector.store import list_runs
from inspector.study.store import list_studies

TINY = [
    "--steps",
    "2",
    "--batch-size",
    "16",
    "--quiet",
    "--every",
    "1",
    "--device",
    "cpu",
    "--data-arg",
    "n_train=64",
    "--data-arg",
    "n_test=32",
]


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_study_depth_tiny_grid_then_ls_show_and_resume(tmp_path, capsys):
    args = [
        "study",
        "depth",
        "--model",
        "plain_cnn",
        "--depths",
        "1,2",
        "--skip",
        "none,residual",
        "--act",
        "tanh",
        "--width",
        "4",
        "--runs-root",
        str(tmp_path),
        *TINY,
    ]
    code, out, err = cli(args, capsys)
    assert code == 0, err
    assert "4/4 runs finished" in out
    assert "plain" in out and "residual" in out and "gradient-norm ratio" in out
    lines = out.splitlines()
    assert any(line.startswith("1 ") for line in lines) and any(
        line.startswith("2 ") for line in lines
    )
    (study,) = list_studies(tmp_path)
    assert study.kind == "depth" and study.axes["depth"] == [1, 2]
    assert study.settings["model"] == "plain_cnn" and study.settings["model_args"] == {"width": 4}
    runs = list_runs(tmp_path)
    assert len(runs) == 4 and {r.study for r in runs} == {study.id}

    code, out, _ = cli(["study", "ls", "--runs-root", str(tmp_path)], capsys)
    assert code == 0 and study.id in out and "4/4" in out
    code, out, _ = cli(
        ["study", "show", study.id, "--runs-root", str(tmp_path), "--metric", "test_accuracy"],
        capsys,
    )
    assert code == 0 and "test accuracy" in out

    code, out, _ = cli(args, capsys)  # same command again: nothing to run, same study
    assert code == 0 and len(list_runs(tmp_path)) == 4 and len(list_studies(tmp_path)) == 1


def test_study_grid_with_any_axis(tmp_path, capsys):
    code, out, err = cli(
        [
            "study",
            "grid",
            "--model",
            "plain_cnn",
            "--axis",
            "norm=none,batch",
            "--model-arg",
            "depth=1",
            "--model-arg",
            "width=4",
            "--name",
            "g1",
            "--runs-root",
            str(tmp_path),
            *TINY,
        ],
        capsys,
    )
    assert code == 0, err
    (study,) = list_studies(tmp_path)
    assert study.id == "g1" and study.kind == "grid"
    assert study.axes == {"norm": ["none", "batch"], "seed": [0]}
    assert "norm" in out and "batch" in out


def test_study_ls_when_empty(tmp_path, capsys):
    code, out, _ = cli(["study", "ls", "--runs-root", str(tmp_path)], capsys)
    assert code == 0 and "no studies yet" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["depth", "--depths", "2,x"], "--depths"),
        (["depth", "--skip", "none,dense"], "dense"),
        (["depth", "--act", "swish"], "swish"),
        (["grid", "--model", "plain_cnn", "--axis", "depth"], "--axis"),
        (["zoo", "--models", "lenet5,no_such_net"], "no_such_net"),
        (["show", "missing-study"], "missing-study"),
    ],
)
def test_bad_input_gives_one_clear_line(tmp_path, capsys, args, expected):
    code, _, err = cli(["study", *args, "--runs-root", str(tmp_path)], capsys)
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_study_zoo_in_two_worker_processes(tmp_path, capsys):
    code, out, err = cli(
        [
            "study",
            "zoo",
            "--models",
            "lenet5,softmax_regression",
            "--jobs",
            "2",
            "--runs-root",
            str(tmp_path),
            *TINY,
        ],
        capsys,
    )
    assert code == 0, err
    assert "params" in out and "lenet5" in out and "softmax_regression" in out
    (study,) = list_studies(tmp_path)
    assert study.kind == "zoo" and study.axes["model"] == ["lenet5", "softmax_regression"]
    lenet = study.cell({"model": "lenet5", "seed": 0})
    assert lenet["status"] == "finished" and lenet["metrics"]["params"] > 10_000
    assert {r.model for r in list_runs(tmp_path)} == {"lenet5", "softmax_regression"}
