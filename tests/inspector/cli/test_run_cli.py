"""`inspector run` / `inspector ls` end to end on tiny settings, and each bad-input case."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.store import list_runs, open_run


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


TINY = [
    "--steps",
    "4",
    "--batch-size",
    "16",
    "--quiet",
    "--data-arg",
    "n_train=128",
    "--data-arg",
    "n_test=64",
]


def test_run_registry_model_then_ls(tmp_path, capsys):
    code, out, err = run_cli(
        [
            "run",
            "--model",
            "lenet5",
            "--data",
            "shapes",
            "--runs-root",
            str(tmp_path),
            "--every",
            "1",
            *TINY,
        ],
        capsys,
    )
    assert code == 0, err
    assert "finished" in out
    runs = list_runs(tmp_path)
    assert len(runs) == 1 and runs[0].status == "finished" and runs[0].steps == 4
    reader = open_run(runs[0].path)
    meta = reader.meta
    assert meta["model"]["name"] == "lenet5" and meta["hparams"]["steps"] == 4
    assert meta["data"]["name"] == "shapes"
    assert len(reader.steps()) == 4
    code, out, _ = run_cli(["ls", "--runs-root", str(tmp_path)], capsys)
    assert code == 0 and runs[0].id in out and "lenet5" in out


def test_ls_empty_root_says_how_to_make_a_run(tmp_path, capsys):
    code, out, _ = run_cli(["ls", "--runs-root", str(tmp_path / "none")], capsys)
    assert code == 0 and "inspector demo" in out


def test_user_factory_from_file_path(tmp_path, capsys):
    user = tmp_path / "my_net.py"
    user.write_text(
        textwrap.dedent("""
        from torch import nn

        def build(width=4):
            return nn.Sequential(nn.Conv2d(1, width, 3), nn.ReLU(), nn.Flatten(),
                                 nn.LazyLinear(6))
    """)
    )
    code, out, err = run_cli(
        [
            "run",
            "--model",
            f"{user}:build",
            "--model-arg",
            "width=3",
            "--runs-root",
            str(tmp_path / "runs"),
            *TINY,
        ],
        capsys,
    )
    assert code == 0, err
    reader = open_run(list_runs(tmp_path / "runs")[0].path)
    assert reader.meta["model"]["kwargs"] == {"width": 3}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--model", "no_such_model"], "no_such_model"),
        (["--model", "lenet5", "--data", "no_such_data"], "no_such_data"),
        (["--model", "lenet5", "--optimizer", "sgd", "--lr", "-1"], "--lr"),
        (["--model", "lenet5", "--every", "sometimes"], "schedule"),
    ],
)
def test_bad_names_give_one_clear_error(tmp_path, capsys, args, expected):
    code, _, err = run_cli(["run", *args, "--runs-root", str(tmp_path), *TINY], capsys)
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_file_that_fails_to_import_shows_its_error_line(tmp_path, capsys):
    bad = tmp_path / "broken.py"
    bad.write_text("import torch\nraise ValueError('boom at import')\n")
    code, _, err = run_cli(
        ["run", "--model", f"{bad}:build", "--runs-root", str(tmp_path), *TINY], capsys
    )
    assert code == 2 and "boom at import" in err and "Traceback" not in err


def test_factory_not_returning_a_module(tmp_path, capsys):
    bad = tmp_path / "notmodule.py"
    bad.write_text("def build():\n    return 42\n")
    code, _, err = run_cli(
        ["run", "--model", f"{bad}:build", "--runs-root", str(tmp_path), *TINY], capsys
    )
    assert code == 2 and "nn.Module" in err


def test_input_shape_the_model_rejects_names_shape_and_layer(tmp_path, capsys):
    user = tmp_path / "rgb_only.py"
    user.write_text(
        "from torch import nn\n\ndef build():\n"
        "    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(6))\n"
    )
    code, _, err = run_cli(
        ["run", "--model", f"{user}:build", "--runs-root", str(tmp_path), *TINY], capsys
    )
    assert code == 2
    assert "(2, 1, 28, 28)" in err and "'0'" in err and "Conv2d" in err
    assert not list_runs(tmp_path), "no run is created for a model that cannot run"


def test_offline_dataset_error_names_where_it_looked(tmp_path, capsys):
    code, _, err = run_cli(
        [
            "run",
            "--model",
            "lenet5",
            "--data",
            "mnist",
            "--data-root",
            str(tmp_path / "data"),
            "--runs-root",
            str(tmp_path),
            *TINY,
        ],
        capsys,
    )
    assert code == 2
    assert str(tmp_path / "data") in err and "--download" in err


def test_console_script_runs(tmp_path):
    exe = Path(sys.executable).with_name("inspector")
    proc = subprocess.run(
        [str(exe), "ls", "--runs-root", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "no runs" in proc.stdout
