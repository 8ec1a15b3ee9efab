"""Where a study's cells run: ``local`` (this machine: in-process, worker processes, GPU
slots) or ``ray`` (tasks on a Ray cluster). Both retry a failed cell once and report
progress through the same ``StudyEvents``; neither changes what a study is."""

from __future__ import annotations

from enum import StrEnum

from inspector.study.executors.common import MAX_ATTEMPTS, StudyEvents

__all__ = ["MAX_ATTEMPTS", "ExecutorName", "StudyEvents"]


class ExecutorName(StrEnum):
    LOCAL = "local"
    RAY = "ray"
