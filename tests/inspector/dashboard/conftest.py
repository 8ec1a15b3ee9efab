"""A fixture runs root for the dashboard tests: a private copy of the shared real runs
(tests/support/real_runs.py: full, bare, nobn and a study) plus a run still 'running'."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "real_runs", Path(__file__).parents[2] / "support/real_runs.py"
)
real_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(real_runs)


def write_live_run(root: Path) -> None:
    """A run whose status stays 'running' while this process lives (live refresh path).
    Synthetic: a real run that is still recording would need a training thread per session."""
    grad_norm = np.array([[10.0 ** (i - 3)] * 5 for i in range(3)])
    real_runs.synthetic_run(
        root,
        "live",
        stats={"grad_norm": grad_norm},
        layer_types=["Tanh"] * 3,
        loss=np.exp(-np.arange(5.0)),
        finish=False,
    )


@pytest.fixture(scope="session")
def dashboard_root(tmp_path_factory) -> Path:
    root = real_runs.copied_root(tmp_path_factory, "dashboard-runs")
    write_live_run(root)
    return root
