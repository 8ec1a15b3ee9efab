"""Shared pieces of the executor tests: tiny specs and an event log around an executor
(fixtures, since tests import with --import-mode=importlib)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.study.grid import StudyKind
from inspector.study.runner import StudySpec

TINY_DATA = {"n_train": 64, "n_test": 32}
KILLER = f"{Path(__file__).with_name('killer_model.py')}:build"


def tiny_grid(**over) -> StudySpec:
    """A grid study of tiny, fast cells (6 steps on 64 images, every step recorded);
    ``over`` names the axes and model and may override any setting."""
    kw = dict(
        kind=StudyKind.GRID,
        data_options=TINY_DATA,
        steps=6,
        batch_size=16,
        every=1,
        device="cpu",
    )
    kw.update(over)
    return StudySpec(**kw)


def grid_2x2(**over) -> StudySpec:
    """depth {1, 2} x skip {none, residual}: a 2x2 grid of tiny CNNs."""
    axes = {"depth": [1, 2], "skip": ["none", "residual"], "seed": [0]}
    return tiny_grid(**{"axes": axes, "model": "plain_cnn", "model_args": {"width": 4}, **over})


def killer_grid(marker: Path, **over) -> StudySpec:
    """Two cells; the ``doomed`` one kills its worker at step 4 of its first attempt."""
    axes = {"doomed": [False, True], "seed": [0]}
    return tiny_grid(
        **{"axes": axes, "model": KILLER, "model_args": {"marker": str(marker)}, **over}
    )


class EventLog:
    """Wraps an executor; logs every event it sends to the runner, then forwards it."""

    def __init__(self, inner) -> None:
        self.inner, self.log = inner, []

    def run(self, tasks, events) -> None:
        log = self.log

        class Spy:
            def started(self, task, attempt):
                log.append(("started", task.config, attempt))
                events.started(task, attempt)

            def progress(self, run_name, steps):
                log.append(("progress", run_name, steps))
                events.progress(run_name, steps)

            def retrying(self, task, result):
                log.append(("retrying", task.config, result.error))
                events.retrying(task, result)

            def finished(self, task, result):
                log.append(("finished", task.config, result.status))
                events.finished(task, result)

        self.inner.run(tasks, Spy())

    def of(self, kind: str) -> list:
        return [e[1:] for e in self.log if e[0] == kind]


@pytest.fixture
def grid_spec():
    return grid_2x2


@pytest.fixture
def killer_spec():
    return killer_grid


@pytest.fixture
def event_log():
    return EventLog
