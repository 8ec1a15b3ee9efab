"""Sampling schedules: which steps get recorded.

A schedule is a callable ``step -> bool``. Unrecorded steps cost next to nothing (hooks
return at the first line), so the schedule is the overhead knob. ``OverheadBudget`` picks
the interval from measured step times so recording stays within a share of the run time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from inspector.errors import InspectorError


@dataclass
class Every:
    """Record every ``n``-th step (and step 0)."""

    n: int = 1

    def __post_init__(self) -> None:
        if self.n < 1:
            raise InspectorError(f"record interval must be >= 1, got {self.n}")

    def __call__(self, step: int) -> bool:
        return step % self.n == 0

    def observe(self, step: int, seconds: float, recorded: bool) -> None:
        """Fixed schedules ignore timing feedback."""


@dataclass
class AtSteps:
    """Record exactly the given steps."""

    steps: Iterable[int]
    _set: frozenset[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._set = frozenset(int(s) for s in self.steps)

    def __call__(self, step: int) -> bool:
        return step in self._set

    def observe(self, step: int, seconds: float, recorded: bool) -> None:
        pass


@dataclass
class OverheadBudget:
    """Record densely at first, then as often as an overhead budget allows.

    Steps ``0..warmup-1`` are all recorded (the start of training is where most problems
    show). Afterwards the interval is ``ceil(extra / (budget * plain))`` where ``extra`` is
    the measured extra time of a recorded step over an unrecorded one (medians of the last
    observations) and ``plain`` the unrecorded step time: the average overhead stays near
    ``budget``. The interval is clamped to [min_interval, max_interval].
    """

    budget: float = 0.015
    warmup: int = 5
    min_interval: int = 2
    max_interval: int = 200
    interval: int = 10  # until both kinds of step have been timed
    _recorded: list[float] = field(default_factory=list, repr=False)
    _plain: list[float] = field(default_factory=list, repr=False)
    _last: int = field(default=0, repr=False)

    def __call__(self, step: int) -> bool:
        if step < self.warmup:
            return True
        if step - self._last >= self.interval:
            return True
        return False

    def observe(self, step: int, seconds: float, recorded: bool) -> None:
        if recorded:
            self._last = step
            if step > 0:  # step 0 includes one-off warm-up costs
                self._recorded = (self._recorded + [seconds])[-9:]
        else:
            self._plain = (self._plain + [seconds])[-9:]
        if self._recorded and len(self._plain) >= 3:
            rec, plain = _median(self._recorded), _median(self._plain)
            extra = max(rec - plain, 0.0)
            wanted = math.ceil(extra / max(self.budget * plain, 1e-9)) if extra > 0 else 1
            self.interval = min(max(wanted, self.min_interval), self.max_interval)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def default_schedule() -> OverheadBudget:
    """The default: a 1.5% budget, so the measured overhead (which also includes the writer
    thread's share of the CPU) stays under 3% on resnet18."""
    return OverheadBudget()


def parse_schedule(text: str | int | None):
    """``"every:N"`` / ``N`` -> Every(N); ``"budget:0.03"`` -> OverheadBudget; None -> default."""
    if text is None or text == "auto":
        return default_schedule()
    if isinstance(text, int):
        return Every(text)
    kind, _, value = str(text).partition(":")
    try:
        if kind.isdigit():
            return Every(int(kind))
        if kind == "every":
            return Every(int(value))
        if kind == "budget":
            return OverheadBudget(budget=float(value))
    except ValueError:
        pass
    raise InspectorError(f"bad schedule {text!r}: use N, every:N, budget:FRACTION or auto")
