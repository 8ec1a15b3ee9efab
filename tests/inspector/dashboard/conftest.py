"""A fixture runs root for the dashboard tests: a full run, a bare one, one without BN,
a study over them, and a run still 'running' (its writer is this test process)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]

_spec = importlib.util.spec_from_file_location(
    "inspector_fixture_runs", REPO / "tests/inspector/figures/fixture_runs.py"
)
fixture_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture_runs)


def write_live_run(root: Path) -> None:
    """A run whose status stays 'running' while this process lives (live refresh path)."""
    from inspector.store import RunWriter

    writer = RunWriter.create(
        "live", root=root, meta={"model": {"name": "live"}, "data": {"name": "synthetic"}}
    )
    ids = writer.register_layers(
        [
            {"name": f"l{i}", "role": "module", "type": "Tanh", "position": i, "info": {}}
            for i in range(3)
        ]
    )
    for step in range(5):
        writer.write_step(
            step,
            1000.0 + step,
            0.01,
            True,
            stats=[("grad_norm", ids[f"l{i}"], 10.0 ** (i - 3)) for i in range(3)],
            scalars=[("loss", step, float(np.exp(-step)))],
        )
    writer.close()  # status stays 'running'; the pid is this (alive) process


@pytest.fixture(scope="session")
def dashboard_root(tmp_path_factory) -> Path:
    root = fixture_runs.fixture_root(tmp_path_factory.mktemp("dashboard-runs"))
    write_live_run(root)
    return root
