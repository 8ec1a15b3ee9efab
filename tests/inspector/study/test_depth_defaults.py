"""``study depth`` picks defaults that fit the model family; what the user gives wins."""

from __future__ import annotations

from inspector.cli import main
from inspector.study.grid import DEPTH_DEFAULTS, depth_defaults
from inspector.study.store import list_studies

TINY = [
    "--depths",
    "1",
    "--skip",
    "none",
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
    "n_train=32",
    "--data-arg",
    "n_test=16",
]


def test_depth_defaults_per_family():
    cnn, mlp = depth_defaults("plain_cnn"), depth_defaults("mlp")
    assert cnn["norm"] == "batch" and cnn["act"] == "relu" and cnn["lr"] == 0.05
    assert mlp["norm"] == "none" and mlp["act"] == "tanh" and mlp["lr"] == 0.005
    assert depth_defaults("my_pkg/net.py:build") == mlp  # other families: the mlp's
    depth_defaults("mlp")["lr"] = 1.0  # a copy: the table itself is not changed
    assert DEPTH_DEFAULTS["mlp"]["lr"] == 0.005


def _study(args: list[str], root, capsys):
    code = main(["study", "depth", *args, "--runs-root", str(root), *TINY])
    err = capsys.readouterr().err
    assert code == 0, err
    (study,) = list_studies(root)
    return study


def test_cli_fills_the_plain_cnn_defaults(tmp_path, capsys):
    study = _study(["--model", "plain_cnn"], tmp_path, capsys)
    assert study.axes["norm"] == ["batch"] and study.axes["act"] == ["relu"]
    assert study.settings["lr"] == 0.05 and study.settings["model_args"] == {"width": 8}
    assert study.settings["steps"] == 2  # given: not replaced


def test_cli_options_given_win_over_family_defaults(tmp_path, capsys):
    args = ["--model", "plain_cnn", "--norm", "none", "--act", "tanh", "--lr", "0.01"]
    study = _study([*args, "--width", "4"], tmp_path, capsys)
    assert study.axes["norm"] == ["none"] and study.axes["act"] == ["tanh"]
    assert study.settings["lr"] == 0.01 and study.settings["model_args"] == {"width": 4}


def test_cli_mlp_defaults_unchanged(tmp_path, capsys):
    study = _study([], tmp_path, capsys)
    assert study.settings["model"] == "mlp" and study.axes["act"] == ["tanh"]
    assert study.axes["norm"] == ["none"] and study.settings["lr"] == 0.005
    assert study.settings["model_args"] == {}
