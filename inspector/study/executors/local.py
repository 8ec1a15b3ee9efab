"""The local executor: cells on this machine, in-process or in a pool of worker processes.

One slot (one CPU job, or one run on the one GPU) runs cells in the calling process, as
before. More slots (``--jobs`` on CPU, ``--runs-per-gpu`` x GPUs) start a pool of spawned
workers; each cell gets a free slot's device, so at most ``runs_per_gpu`` runs share a GPU.
Workers send their progress through a queue into the driver's one progress bar. A worker
that dies takes the pool down with the attempts running in it: the pool is rebuilt and each
of those cells is retried once, like any failed cell.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_mod
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from inspector.study.cell import CellResult, CellTask, worker_init
from inspector.study.executors.common import (
    StudyEvents,
    attempt_cell,
    failed_result,
    final_error,
    should_retry,
)

POLL_S = 0.25
_QUEUE = None  # a worker's progress queue (set by _init_worker)


def _init_worker(progress_queue) -> None:
    global _QUEUE
    _QUEUE = progress_queue
    worker_init()


def _report(run_name: str, steps: int) -> None:
    if _QUEUE is not None:
        try:
            _QUEUE.put_nowait((run_name, steps))
        except queue_mod.Full:
            pass  # progress is best effort; the result itself comes back through the future


def _pool_attempt(task: CellTask) -> CellResult:
    return attempt_cell(task, _report)


class LocalExecutor:
    """Runs cells on the devices of ``slots`` (see ``slots.plan_slots``)."""

    name = "local"

    def __init__(self, slots: list[str]) -> None:
        self.slots = list(slots)

    def run(self, tasks: list[CellTask], events: StudyEvents) -> None:
        if len(self.slots) == 1 or len(tasks) <= 1:
            self._run_in_process(tasks, events)
        else:
            self._run_in_pool(tasks, events)

    def _run_in_process(self, tasks: list[CellTask], events: StudyEvents) -> None:
        for task in tasks:
            task = replace(task, device=self.slots[0])
            attempt = 1
            while True:
                events.started(task, attempt)
                result = attempt_cell(task, events.progress)
                if not should_retry(result, attempt):
                    events.finished(task, final_error(result, attempt))
                    break
                events.retrying(task, result)
                attempt += 1

    def _run_in_pool(self, tasks: list[CellTask], events: StudyEvents) -> None:
        ctx = multiprocessing.get_context("spawn")
        progress = ctx.Queue()
        todo: deque[tuple[CellTask, int]] = deque((t, 1) for t in tasks)
        free = list(self.slots)
        running: dict[Future, tuple[CellTask, int, str]] = {}
        pool = self._pool(ctx, progress)
        try:
            while todo or running:
                while todo and free:
                    task, attempt = todo.popleft()
                    slot = free.pop(0)
                    task = replace(task, device=slot)
                    events.started(task, attempt)
                    running[pool.submit(_pool_attempt, task)] = (task, attempt, slot)
                done, _ = wait(running, timeout=POLL_S, return_when=FIRST_COMPLETED)
                self._drain(progress, events)
                broken = False
                for future in done:
                    task, attempt, slot = running.pop(future)
                    free.append(slot)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        result = failed_result(
                            task, "worker process died (killed, or out of memory)"
                        )
                    except Exception as exc:
                        result = failed_result(
                            task, f"worker process failed: {type(exc).__name__}: {exc}"
                        )
                    if should_retry(result, attempt):
                        events.retrying(task, result)
                        todo.append((task, attempt + 1))
                    else:
                        events.finished(task, final_error(result, attempt))
                if broken:
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = self._pool(ctx, progress)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            self._drain(progress, events)
            progress.close()

    def _pool(self, ctx, progress) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=len(self.slots),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(progress,),
        )

    @staticmethod
    def _drain(progress, events: StudyEvents) -> None:
        while True:
            try:
                run_name, steps = progress.get_nowait()
            except (queue_mod.Empty, OSError, ValueError):
                return
            events.progress(run_name, steps)
