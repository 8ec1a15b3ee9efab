"""Fixture runs for the figure tests: the shared root of real runs (tests/support/real_runs.py,
built once per session) and a factory for synthetic runs with dictated statistics."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "real_runs", Path(__file__).parents[2] / "support/real_runs.py"
)
real_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(real_runs)


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory) -> Path:
    return real_runs.shared_root(tmp_path_factory)


@pytest.fixture(scope="session")
def full(runs_root):
    from inspector.store import open_run

    with open_run(runs_root / real_runs.FULL) as reader:
        yield reader


@pytest.fixture(scope="session")
def bare(runs_root):
    from inspector.store import open_run

    with open_run(runs_root / real_runs.BARE) as reader:
        yield reader


@pytest.fixture(scope="session")
def nobn(runs_root):
    from inspector.store import open_run

    with open_run(runs_root / real_runs.NOBN) as reader:
        yield reader


@pytest.fixture(scope="session")
def fixture_runs():
    """The shared fixture module (layer lookups, run names, the study)."""
    return real_runs


@pytest.fixture
def synthetic(tmp_path):
    """Factory: write a run with given stats/hists and open it."""
    from inspector.store import open_run

    opened = []

    def make(name="syn", **kwargs):
        reader = open_run(real_runs.synthetic_run(tmp_path, name, **kwargs))
        opened.append(reader)
        return reader

    yield make
    for reader in opened:
        reader.close()
