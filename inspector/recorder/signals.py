"""SIGTERM (schedulers, ``docker stop``, ``kill``) ends a watched run like Ctrl-C does.

Python's default for SIGTERM is to die on the spot: no ``finally``, so the run would stay
``running`` with hooks and a queue of unwritten steps. While ``watch()`` is active in the
main thread, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``) instead, so the
run is marked ``interrupted``, hooks are removed and the writer queue is flushed. A handler
the program installed itself is chained (called, not replaced) and restored on exit; an
ignored SIGTERM stays ignored.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM while a run was being recorded."""


@dataclass
class TermState:
    """Whether SIGTERM arrived while the block ran (a chained user handler may not raise)."""

    received: bool = False


@contextmanager
def sigterm_as_interrupt() -> Iterator[TermState]:
    """Inside the block, SIGTERM raises ``Terminated`` (main thread only; chains, restores)."""
    state = TermState()
    if threading.current_thread() is not threading.main_thread():
        yield state  # signal handlers can only be installed from the main thread
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN or previous is None:
        yield state  # ignored on purpose, or owned by non-Python code: leave it alone
        return

    def on_sigterm(signum: int, frame: object) -> None:
        state.received = True
        if callable(previous):  # the program's own handler decides what happens
            previous(signum, frame)
            return
        raise Terminated("SIGTERM received: run interrupted")

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield state
    finally:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)
