"""Sampling schedules and module selection."""

from __future__ import annotations

import pytest
from torch import nn

from inspector.errors import InspectorError
from inspector.recorder.schedule import AtSteps, Every, OverheadBudget, parse_schedule
from inspector.recorder.selection import ModuleSelection


def test_every_and_at_steps():
    assert [s for s in range(10) if Every(4)(s)] == [0, 4, 8]
    assert [s for s in range(10) if AtSteps([1, 7])(s)] == [1, 7]
    with pytest.raises(InspectorError):
        Every(0)


def test_parse_schedule_forms():
    assert parse_schedule(3) == Every(3) and parse_schedule("5") == Every(5)
    assert parse_schedule("every:2") == Every(2)
    assert parse_schedule("budget:0.05").budget == 0.05
    assert isinstance(parse_schedule(None), OverheadBudget)
    with pytest.raises(InspectorError, match="bad schedule"):
        parse_schedule("sometimes")


def simulate(budget: OverheadBudget, plain: float, extra: float, steps: int) -> list[int]:
    recorded = []
    for step in range(steps):
        rec = budget(step)
        budget.observe(step, plain + (extra if rec else 0.0), rec)
        if rec:
            recorded.append(step)
    return recorded


def test_overhead_budget_records_warmup_then_keeps_overhead_near_budget():
    budget = OverheadBudget(budget=0.02, warmup=5)
    recorded = simulate(budget, plain=0.1, extra=0.02, steps=2000)
    assert recorded[:5] == [0, 1, 2, 3, 4]
    late = [s for s in recorded if s >= 1000]
    overhead = len(late) * 0.02 / (1000 * 0.1)
    assert overhead <= 0.025
    assert 10 <= budget.interval <= 11  # ceil(0.02 / (0.02 * 0.1)), up to float rounding


def test_overhead_budget_records_often_when_recording_is_cheap():
    budget = OverheadBudget(budget=0.02)
    simulate(budget, plain=0.1, extra=0.0, steps=100)
    assert budget.interval == budget.min_interval


def test_module_selection_by_type_and_pattern():
    sel = ModuleSelection(types=("Conv2d",), include=(), exclude=())
    assert sel.wants("c", nn.Conv2d(1, 1, 1)) and not sel.wants("l", nn.Linear(1, 1))
    sel = ModuleSelection(include=("layer1.*",), exclude=("*.bn*",))
    assert sel.wants("layer1.conv1", nn.Conv2d(1, 1, 1))
    assert not sel.wants("layer1.bn1", nn.BatchNorm2d(1))
    assert not sel.wants("fc", nn.Linear(1, 1))
    assert not ModuleSelection().wants("seq", nn.Sequential(nn.Linear(1, 1)))  # containers
