"""Shared fixture runs for the figure tests (built once per session)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "inspector_fixture_runs", Path(__file__).with_name("fixture_runs.py")
)
fixture_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture_runs)


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory) -> Path:
    return fixture_runs.fixture_root(tmp_path_factory.mktemp("figure-runs"))


@pytest.fixture(scope="session")
def full(runs_root):
    from inspector.store import open_run

    with open_run(runs_root / "full") as reader:
        yield reader


@pytest.fixture(scope="session")
def bare(runs_root):
    from inspector.store import open_run

    with open_run(runs_root / "bare") as reader:
        yield reader


@pytest.fixture
def synthetic(tmp_path):
    """Factory: write a run with given stats/hists and open it."""
    from inspector.store import open_run

    opened = []

    def make(name="syn", **kwargs):
        reader = open_run(fixture_runs.synthetic_run(tmp_path, name, **kwargs))
        opened.append(reader)
        return reader

    yield make
    for reader in opened:
        reader.close()
