"""`inspector diagnose` end to end: a user's model file, --fail-on, --json, --run, resnet18."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch

from inspector.cli import main
from inspector.store import list_runs, open_run

torch.set_num_threads(1)

TINY = [
    "--batch-size",
    "16",
    "--data-arg",
    "n_train=64",
    "--data-arg",
    "n_test=16",
    "--no-extras",
    "--quiet",
]

BROKEN = textwrap.dedent("""
    from torch import nn

    def broken(depth=20, width=32):
        # sigmoid everywhere, 20 linear layers, no normalisation, no skip connections
        layers = [nn.Flatten(), nn.Linear(28 * 28, width), nn.Sigmoid()]
        for _ in range(depth - 2):
            layers += [nn.Linear(width, width), nn.Sigmoid()]
        layers.append(nn.Linear(width, 6))
        return nn.Sequential(*layers)

    def wants_rgb():
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(6))
""")


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def user_file(tmp_path_factory):
    """A user's model file outside the package, in a fresh folder."""
    root = tmp_path_factory.mktemp("diag_cli")
    model_file = root / "user_models.py"
    model_file.write_text(BROKEN)
    return root, model_file


def test_broken_file_factory_json_and_fail_on(user_file, capsys):
    root, model_file = user_file
    code, out, err = run_cli(
        [
            "diagnose",
            f"{model_file}:broken",
            "--input-shape",
            "1,28,28",
            "--steps",
            "10",
            "--runs-root",
            str(root / "runs"),
            "--json",
            "--fail-on",
            "error",
            *TINY,
        ],
        capsys,
    )
    assert code == 1, err  # an error-level finding with --fail-on error
    doc = json.loads(out)  # --json: machine-readable findings only
    assert doc["verdict"].startswith("gradient flow: vanishing")
    first = doc["findings"][0]
    assert first["rule"] == "vanishing_gradients" and first["severity"] == "error"
    # the right layers: the first Linear/Sigmoid layers (Flatten of the input has no gradient)
    assert first["layers"][:2] == ["1", "2"]
    assert "39" not in first["layers"]  # the output layer is fine
    assert first["evidence"]["saturated_layers"] == {}
    assert not [f for f in doc["findings"] if f["rule"] == "saturation"]
    # stored in the run, for the dashboard
    runs = list_runs(root / "runs")
    assert len(runs) == 1 and runs[0].id == doc["run_id"]
    stored = open_run(runs[0].path).record("findings", "all")
    assert stored["findings"] == doc["findings"]

    # the same run again, from the store: table output, exit codes per --fail-on
    code, out, _ = run_cli(
        ["diagnose", "--run", doc["run_id"], "--runs-root", str(root / "runs")], capsys
    )
    assert code == 0
    assert "vanishing_gradients" in out and "gradient flow: vanishing" in out
    assert doc["run_id"] in out
    assert out.index("ERROR") < out.index("gradient flow: vanishing")
    code, _, _ = run_cli(
        [
            "diagnose",
            "--run",
            doc["run_id"],
            "--runs-root",
            str(root / "runs"),
            "--fail-on",
            "warning",
            "--brief",
        ],
        capsys,
    )
    assert code == 1
    # thresholds are configurable from the CLI: switch vanishing off, no error left
    code, out, _ = run_cli(
        [
            "diagnose",
            "--run",
            doc["run_id"],
            "--runs-root",
            str(root / "runs"),
            "--fail-on",
            "error",
            "--json",
            "--threshold",
            "vanishing_warn=0",
            "--threshold",
            "update_lag=0",
        ],
        capsys,
    )
    assert code == 0, out
    assert "vanishing_gradients" not in [f["rule"] for f in json.loads(out)["findings"]]


def test_input_shape_rejected_names_shape_and_layer(user_file, capsys):
    root, model_file = user_file
    code, out, err = run_cli(
        [
            "diagnose",
            f"{model_file}:wants_rgb",
            "--input-shape",
            "1,28,28",
            "--runs-root",
            str(root / "bad"),
            *TINY,
        ],
        capsys,
    )
    assert code == 2
    assert "(2, 1, 28, 28)" in err and "'0'" in err and "Conv2d" in err
    assert len(err.strip().splitlines()) == 1  # one line, no traceback


def test_usage_errors(user_file, capsys):
    root, model_file = user_file
    code, _, err = run_cli(["diagnose"], capsys)
    assert code == 2 and "TARGET" in err
    code, _, err = run_cli(["diagnose", "--run", "nope", "--runs-root", str(root / "runs")], capsys)
    assert code == 2 and "nope" in err
    code, _, err = run_cli(
        [
            "diagnose",
            f"{model_file}:broken",
            "--threshold",
            "bogus=1",
            "--runs-root",
            str(root / "x"),
            *TINY,
        ],
        capsys,
    )
    assert code == 2 and "unknown threshold" in err


def test_torchvision_resnet18_as_custom_model_has_no_error(tmp_path, capsys):
    code, out, err = run_cli(
        [
            "diagnose",
            "torchvision.models:resnet18",
            "--model-arg",
            "num_classes=6",
            "--input-shape",
            "3,32,32",
            "--steps",
            "8",
            "--batch-size",
            "8",
            "--lr",
            "0.01",
            "--data-arg",
            "n_train=64",
            "--data-arg",
            "n_test=16",
            "--no-extras",
            "--quiet",
            "--json",
            "--fail-on",
            "error",
            "--runs-root",
            str(tmp_path),
        ],
        capsys,
    )
    doc = json.loads(out)
    assert code == 0, [f["title"] for f in doc["findings"]]
    assert not [f for f in doc["findings"] if f["severity"] == "error"]
    assert doc["verdict"].startswith("gradient flow: healthy")
