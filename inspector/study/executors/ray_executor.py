"""The Ray executor: every cell is a Ray task with its own resource request.

``--ray-address`` (or ``RAY_ADDRESS``) joins an existing cluster; without either, a local
Ray instance is started without its dashboard and stopped at the end. (Ray's own services
listen on the host's address, whatever is asked: Ray maps 127.0.0.1 to the routable IP; Ray
2.60 protects them with its token authentication, on by default.) Runs go under the driver's runs root when the workers share that folder (checked per
task with a probe file; ``--no-shared-fs`` skips the check), otherwise each finished run is
shipped back as a tar archive and unpacked there. Workers stream their step counts to a
small actor that the driver polls into its one progress bar. Retries are the driver's (Ray
retries are off), so a cell killed mid-run is retried exactly once, like a failed one.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

from inspector.errors import InspectorError, StoreError
from inspector.study.cell import CellTask
from inspector.study.executors.common import (
    StudyEvents,
    clear_partial_run,
    failed_result,
    final_error,
    should_retry,
)
from inspector.study.executors.transfer import unpack_run
from inspector.study.store import STUDIES_DIR, CellStatus

POLL_S = 0.25
PROBE_NAME = ".shared-fs-probe"


def import_ray():
    try:
        import ray
    except ImportError:
        raise InspectorError(
            "--executor ray needs Ray, which is not installed: pip install 'inspector[ray]' "
            "(on the driver and on every worker node)"
        ) from None
    return ray


def connect(address: str | None):
    """Ray, initialised: (ray module, whether we started it and must shut it down)."""
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        ray.init(address=address or None, **kwargs)  # None: $RAY_ADDRESS or a new local one
    except ConnectionError as exc:
        where = address or os.environ.get("RAY_ADDRESS")
        raise InspectorError(
            f"cannot connect to the Ray cluster at {where}: {exc}; start it with "
            "`ray start --head` or check --ray-address (a cluster with token authentication, "
            "Ray's default, also needs RAY_AUTH_MODE=token and its token in ~/.ray/auth_token)"
        ) from None
    return ray, True


class RayExecutor:
    """Cells as Ray tasks (``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs each)."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        cpus_per_run: float = 1.0,
        gpus_per_run: float = 0.0,
        shared_fs: bool = True,
    ) -> None:
        if cpus_per_run <= 0:
            raise InspectorError(f"--cpus-per-run must be > 0, got {cpus_per_run}")
        if gpus_per_run < 0:
            raise InspectorError(f"--gpus-per-run must be >= 0, got {gpus_per_run}")
        import_ray()
        self.address, self.cpus, self.gpus, self.shared_fs = (
            address,
            cpus_per_run,
            gpus_per_run,
            shared_fs,
        )

    def cell_device(self, device: str) -> str:
        """The device a worker uses: a GPU when the task asks for one (Ray picks which)."""
        if self.gpus > 0:
            if device not in ("auto", "cuda"):
                raise InspectorError(
                    f"--gpus-per-run {self.gpus} with --device {device}: Ray assigns the GPU, "
                    "so use --device cuda (or auto)"
                )
            return "cuda"
        return device

    def run(self, tasks: list[CellTask], events: StudyEvents) -> None:
        if not tasks:
            return
        ray, started = connect(self.address)
        from inspector.study.executors.ray_worker import ProgressBoard, ray_attempt

        root, sid = Path(tasks[0].root), tasks[0].study_id
        token = secrets.token_hex(16)
        probe = root / STUDIES_DIR / sid / PROBE_NAME
        if self.shared_fs:
            probe.parent.mkdir(parents=True, exist_ok=True)
            probe.write_text(token, encoding="utf-8")
        remote = ray.remote(ray_attempt).options(
            num_cpus=self.cpus, num_gpus=self.gpus, max_retries=0
        )
        board = ray.remote(num_cpus=0)(ProgressBoard).remote()
        running: dict = {}

        def submit(task: CellTask, attempt: int) -> None:
            task = replace(task, device=self.cell_device(task.spec.device))
            events.started(task, attempt)
            ref = remote.remote(
                task, str(probe) if self.shared_fs else None, token, board, max(1, int(self.cpus))
            )
            running[ref] = (task, attempt)

        try:
            for task in tasks:
                submit(task, 1)
            while running:
                done, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
                for name, steps in ray.get(board.take.remote()).items():
                    events.progress(name, steps)
                for ref in done:
                    task, attempt = running.pop(ref)
                    result = self._collect(ray, ref, task, root)
                    if should_retry(result, attempt):
                        events.retrying(task, result)
                        submit(task, attempt + 1)
                    else:
                        events.finished(task, final_error(result, attempt))
        except BaseException:
            for ref in running:
                ray.cancel(ref, force=True)
            raise
        finally:
            probe.unlink(missing_ok=True)
            ray.kill(board)
            if started:
                ray.shutdown()

    @staticmethod
    def _collect(ray, ref, task: CellTask, root: Path):
        try:
            result, archive = ray.get(ref)
        except ray.exceptions.RayError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return failed_result(task, f"Ray worker failed ({type(exc).__name__}): {first}")
        if archive is not None and result.run_id:
            try:
                clear_partial_run(root, result.run_id, task.study_id)
                unpack_run(archive, root, result.run_id)
            except StoreError as exc:
                result.status, result.run_id, result.error = CellStatus.FAILED, None, str(exc)
        return result
