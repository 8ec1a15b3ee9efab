"""Sampling schedules: which steps get recorded.

A schedule is a callable ``step -> bool`` (with an optional ``observe`` for step timings).
Unrecorded steps cost next to nothing (hooks return at the first line), so the schedule is
the overhead knob. The default, ``Spread``, records enough steps for every "over time" view
to show a trend (about 100, denser early) while a token bucket caps what recording costs;
``OverheadBudget`` ("budget:F") only follows the budget; ``Every`` / ``AtSteps`` are fixed.
"""

from __future__ import annotations

import bisect
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


def sqrt_spacing(step: int, scale: float) -> int:
    """Interval after ``step`` on the open-ended grid: ``round(scale * sqrt(step))``, >= 1.

    Points by step ``s`` grow like ``2 * sqrt(s) / scale``: dense early, and still a regular
    stride late in a long run (interval 20 at step 1000, 89 at step 20000)."""
    return max(1, round(scale * math.sqrt(step)))


def planned_grid(total_steps: int, points: int, scale: float) -> list[int]:
    """``points`` steps spread evenly over ``0..total_steps-1`` (first and last included),
    plus the open-ended grid's steps inside the first interval, so that a long planned run
    is dense early too (where most problems show)."""
    if total_steps <= points:
        return list(range(total_steps))
    last = total_steps - 1
    steps = {round(i * last / (points - 1)) for i in range(points)}
    step, first_interval = 0, last / (points - 1)
    while step < first_interval:
        steps.add(step)
        step += sqrt_spacing(step, scale)
    return sorted(steps)


@dataclass
class Spread:
    """The default: enough recorded steps for the views to show a trend, within a cost budget.

    Where steps go: the first ``warmup`` steps, then a grid. When the planned length is known
    (the training harness passes ``total_steps``), ``points`` steps spread evenly over the
    run, the last step included, plus the open-ended grid inside the first interval.
    Otherwise an open-ended grid whose interval grows like the
    square root of the step (``sqrt_spacing``): about ``points`` steps by step 1000, 173 by
    3000, 450 by 20000, so short runs are dense and long ones keep a regular stride.

    What it may cost: recording is a token bucket. The measured extra time of recorded steps
    (sum of recorded step times minus as many median unrecorded step times) may reach
    ``allowance`` seconds plus ``budget`` of the run's time. A grid step that does not fit is
    deferred to the first step that does. So a short run gets its points (a 300-step run
    costs seconds, and its charts need them), while a long run converges to ``budget``
    overhead whatever recording costs. Steps after the planned end fall back to the
    open-ended grid. Without any unrecorded step timed yet, one step after ``warmup`` is
    left unrecorded to measure the plain step time.
    """

    total_steps: int | None = None
    points: int = 100
    warmup: int = 5
    budget: float = 0.015
    allowance: float = 5.0  # seconds
    spacing_scale: float = 0.66  # open-ended grid: ~points steps by step 1000
    _grid: list[int] = field(default_factory=list, repr=False)
    _due: int = field(default=0, repr=False)
    _plain: list[float] = field(default_factory=list, repr=False)
    _recorded: list[float] = field(default_factory=list, repr=False)
    _recorded_sum: float = field(default=0.0, repr=False)
    _recorded_count: int = field(default=0, repr=False)
    _steps_seen: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.total_steps is not None and self.total_steps < 1:
            raise InspectorError(f"planned steps must be >= 1, got {self.total_steps}")
        if self.points < 2:
            raise InspectorError(f"points must be >= 2, got {self.points}")
        if self.total_steps is not None:
            self._grid = planned_grid(self.total_steps, self.points, self.spacing_scale)

    def __call__(self, step: int) -> bool:
        if step < self.warmup:
            return True
        if self.total_steps is not None and step == self.total_steps - 1:
            return True  # the last step: what the run ended at
        if step < self._due:
            return False
        if not self._plain:
            return step > self.warmup  # leave one step unrecorded to time a plain step
        return self.spent() + self.expected_extra() <= self.allowed()

    def observe(self, step: int, seconds: float, recorded: bool) -> None:
        if recorded:
            self._due = self._next_due(step)
        if step == 0:  # one-off warm-up costs, recorded or not
            return
        self._steps_seen += 1
        if recorded:
            self._recorded_sum += seconds
            self._recorded_count += 1
            self._recorded = (self._recorded + [seconds])[-9:]
        else:
            self._plain = (self._plain + [seconds])[-9:]

    def _next_due(self, step: int) -> int:
        if self.total_steps is not None and step < self.total_steps - 1:
            i = bisect.bisect_right(self._grid, step)
            return self._grid[i] if i < len(self._grid) else self.total_steps - 1
        return step + sqrt_spacing(step, self.spacing_scale)

    def spent(self) -> float:
        """Seconds recording has cost so far (after step 0)."""
        if not self._plain:
            return 0.0
        return max(self._recorded_sum - self._recorded_count * _median(self._plain), 0.0)

    def expected_extra(self) -> float:
        """What the next recorded step is expected to cost over a plain one."""
        if not self._plain or not self._recorded:
            return 0.0
        return max(_median(self._recorded) - _median(self._plain), 0.0)

    def allowed(self) -> float:
        """Seconds recording may have cost by now: the allowance plus the budget's share."""
        plain = _median(self._plain) if self._plain else 0.0
        return self.allowance + self.budget * self._steps_seen * plain


def default_schedule(total_steps: int | None = None) -> Spread:
    """The default schedule; ``total_steps`` (known to the training harness) spreads its
    points evenly over the planned run and records the last step."""
    return Spread(total_steps=total_steps)


def parse_schedule(text: str | int | None, total_steps: int | None = None):
    """``"every:N"`` / ``N`` -> Every(N); ``"budget:0.03"`` -> OverheadBudget; None or
    ``"auto"`` -> the default ``Spread`` (over ``total_steps`` when the caller knows them)."""
    if text is None or text == "auto":
        return default_schedule(total_steps)
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
