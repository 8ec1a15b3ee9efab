"""Every shell command the dashboard and the reports suggest, built in one place.

Each builder names the runs root being watched (``--runs-root``), so what a user pastes
writes where the dashboard looks. ``suggested(root, run_id)`` lists them all, so a test can
run each one (with tiny ``--steps``) and prove none of them fails. Torch-free.
"""

from __future__ import annotations

import shlex
from os import PathLike

FIRST_MODEL = "lenet5_bn"  # trains on shapes within 300 CPU steps, has BatchNorm
NO_BN_MODEL = "lenet5"  # the same family without BatchNorm
STEPS = 300


def _root(root: str | PathLike) -> str:
    return shlex.quote(str(root))


def run_command(root: str | PathLike, model: str = FIRST_MODEL, steps: int = STEPS) -> str:
    """Train one built-in model on the built-in shapes data, recorded."""
    return (
        f"inspector run --model {shlex.quote(model)} --data shapes --steps {steps} "
        f"--runs-root {_root(root)}"
    )


def demo_command(root: str | PathLike) -> str:
    """The demo study (12 small runs) without opening a second dashboard."""
    return f"inspector demo --no-dashboard --runs-root {_root(root)}"


def study_command(root: str | PathLike, steps: int = STEPS) -> str:
    """A depth study of the MLP family (plain vs residual at three depths)."""
    return f"inspector study depth --depths 2,6,12 --steps {steps} --runs-root {_root(root)}"


def diagnose_command(root: str | PathLike, run_id: str) -> str:
    """Write the diagnosis of a recorded run into it (no training)."""
    return f"inspector diagnose --run {shlex.quote(run_id)} --runs-root {_root(root)}"


def dashboard_command(root: str | PathLike) -> str:
    return f"inspector dashboard --runs-root {_root(root)}"


def suggested(root: str | PathLike, run_id: str = "RUN") -> dict[str, str]:
    """Every command the UI and the reports show, by where it is shown."""
    return {
        "empty state: demo": demo_command(root),
        "empty state: one run": run_command(root),
        "batchnorm: a run with BN": run_command(root, FIRST_MODEL),
        "batchnorm: the same model without BN": run_command(root, NO_BN_MODEL),
        "kernels/saliency/receptive field: a harness run": run_command(root, NO_BN_MODEL),
        "study: a depth study": study_command(root),
        "overview/report: diagnose a run": diagnose_command(root, run_id),
        "empty state: another root": dashboard_command(root),
    }
