"""Where runs live, and how user-given names become safe folder names."""

from __future__ import annotations

import os
import re
from pathlib import Path

RUNS_ROOT_ENV = "INSPECTOR_RUNS_ROOT"
DEFAULT_RUNS_ROOT = "runs"


def runs_root(root: str | os.PathLike | None = None) -> Path:
    """The runs root: the argument, else $INSPECTOR_RUNS_ROOT, else ./runs."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get(RUNS_ROOT_ENV) or DEFAULT_RUNS_ROOT)


def sanitize_name(name: str, fallback: str = "run") -> str:
    """A file-system safe version of ``name``: letters, digits, '.', '_' and '-' only."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip(".-")
    return safe[:120] or fallback


def unique_run_dir(root: Path, name: str) -> Path:
    """``root/name``, or ``root/name-2``, ``-3``... if taken; the folder is created here.

    ``os.mkdir`` is atomic: of two processes that want the same name at the same moment,
    exactly one gets it and the other moves on to the next free name, so two runs never
    share one store.
    """
    base = sanitize_name(name)
    root.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        candidate = root / (base if n == 1 else f"{base}-{n}")
        try:
            os.mkdir(candidate)
        except FileExistsError:
            n += 1
            continue
        return candidate
