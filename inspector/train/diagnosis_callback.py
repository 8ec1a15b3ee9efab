"""Diagnose every run when it closes and store the findings in it.

Runs after the recorder flushed everything and the status is set, with the writer still
open, so the findings land in the run as record("findings", "all") for the dashboard,
reports and studies.
"""

from __future__ import annotations

import sys

from inspector.train.callbacks import Callback, TrainContext


class DiagnosisCallback(Callback):
    """``on_run_closed``: ``diagnose_run`` on the run, ``store_findings`` into it.

    ``result`` holds the ``Diagnosis`` afterwards. A failing rule must not cost the user the
    run that was just recorded: the error is printed and ``result`` stays None (``raise_errors``
    re-raises instead, for tests).
    """

    def __init__(self, thresholds=None, raise_errors: bool = False) -> None:
        self.thresholds = thresholds
        self.raise_errors = raise_errors
        self.result = None

    def on_run_closed(self, ctx: TrainContext) -> None:
        from inspector.diagnosis import diagnose_run, store_findings
        from inspector.store import RunReader

        try:
            with RunReader(ctx.writer.dir) as reader:
                diagnosis = diagnose_run(reader, self.thresholds)
            store_findings(ctx.writer, diagnosis)
            self.result = diagnosis
        except Exception as exc:
            if self.raise_errors:
                raise
            print(
                f"inspector: diagnosis of {ctx.writer.dir.name} failed: "
                f"{type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
