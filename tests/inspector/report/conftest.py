"""Fixture runs for the report tests: the shared root of real runs (tests/support/real_runs.py,
built once per session). ``full`` holds every record and array of docs/RECORDS.md, ``bare``
only what the recorder writes (every optional section must say its data is missing), and the
study has three finished cells and a pending one."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import NamedTuple

import pytest

_spec = importlib.util.spec_from_file_location(
    "real_runs", Path(__file__).parents[2] / "support/real_runs.py"
)
real_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(real_runs)


class Fixture(NamedTuple):
    root: Path
    full: str  # run id with every record
    bare: str  # run id with recorder data only
    study: str  # study id


@pytest.fixture(scope="session")
def report_fixture(tmp_path_factory) -> Fixture:
    root = real_runs.shared_root(tmp_path_factory)
    study = real_runs.the_study(root)
    return Fixture(root=root, full=real_runs.FULL, bare=real_runs.BARE, study=study.id)


@pytest.fixture(scope="session")
def fixture_runs():
    """The shared fixture module (layer lookups, run names, the study)."""
    return real_runs
