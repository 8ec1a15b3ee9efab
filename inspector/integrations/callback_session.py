"""The framework-independent half of the callbacks: ``watch()`` opened and closed across
hooks, evaluation passes paused, one ``rec.step()`` per optimizer step.

Framework callbacks (Lightning, Hugging Face) get their events at separate times, so the
``watch`` context manager is entered at the start of fitting and exited at the end (or
with the exception that ended it: the run's status follows, as with a ``with`` block).
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from typing import Any

from torch import nn

from inspector.recorder.schedule import Every
from inspector.recorder.watch import watch


class WatchSession:
    """One ``watch()`` block spread over a framework's callback events."""

    def __init__(self, run: str | None, root: Any, every: Any, watch_kwargs: dict[str, Any]):
        self.run, self.root, self.every = run, root, every
        self.watch_kwargs = watch_kwargs
        self.recorder: Any = None
        self._block: AbstractContextManager | None = None
        self._pause: AbstractContextManager | None = None
        self._last_update: int | None = None

    @property
    def active(self) -> bool:
        return self._block is not None

    def start(
        self,
        model: nn.Module,
        run: str | None,
        every: int | None,
        meta: dict[str, Any],
        scaler: Any = None,
        optimizer_steps: int = 0,
    ) -> None:
        """Enter ``watch``; ``run`` / ``every`` are the framework's (the user's win)."""
        if self._block is not None:
            return
        self._last_update = optimizer_steps
        schedule = self.every if self.every is not None else (Every(every) if every else None)
        kwargs = {"meta": meta, **self.watch_kwargs}
        self._block = watch(model, self.run or run, self.root, every=schedule, **kwargs)
        self.recorder = self._block.__enter__()
        if scaler is not None:
            self.recorder.use_scaler(scaler)

    def step(self, optimizer_steps: int, **scalars: Any) -> None:
        """One recorded step per optimizer step: micro-batches of gradient accumulation
        (same optimizer step count) are merged into the step that follows them."""
        if self._block is None or optimizer_steps == self._last_update:
            return
        self._last_update = optimizer_steps
        self.recorder.step(**scalars)

    def pause(self) -> None:
        """Evaluation passes (validation, sanity check) are not training: do not record them."""
        if self.recorder is not None and self._pause is None:
            self._pause = self.recorder.paused()
            self._pause.__enter__()

    def resume(self) -> None:
        if self._pause is not None:
            pause, self._pause = self._pause, None
            pause.__exit__(None, None, None)

    def end(self, exc: BaseException | None = None) -> None:
        """Leave the block: finished, or failed / interrupted with ``exc``."""
        if self._block is None:
            return
        self.resume()
        block, self._block = self._block, None
        if exc is None:
            block.__exit__(None, None, None)
            return
        try:
            block.__exit__(type(exc), exc, exc.__traceback__ or sys.exc_info()[2])
        except BaseException as raised:  # the same exception, re-raised by watch: expected
            if raised is not exc:
                raise


def first_loss(outputs: Any) -> Any:
    """The loss in a training step's outputs (a tensor, or a mapping with ``loss``)."""
    if isinstance(outputs, dict):
        return outputs.get("loss")
    return outputs if hasattr(outputs, "detach") else None
