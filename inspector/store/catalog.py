"""The runs root as a catalog: list runs, resolve a run by id or path."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from inspector.errors import StoreError
from inspector.store.paths import runs_root
from inspector.store.reader import RunReader
from inspector.store.schema import DB_NAME


@dataclass(frozen=True)
class RunSummary:
    """One line of ``inspector ls`` / the dashboard's Runs table."""

    id: str
    path: str
    name: str
    status: str
    created: float
    model: str
    data: str
    steps: int
    final_loss: float | None
    final_accuracy: float | None
    test_accuracy: float | None
    study: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def run_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    """Run folders under the root (a run folder holds run.sqlite), oldest first."""
    base = runs_root(root)
    try:
        dirs = [p for p in base.iterdir() if (p / DB_NAME).is_file()]
    except OSError:  # missing, not a folder, or not readable
        return []
    return sorted(dirs, key=_mtime)


def _mtime(run_dir: Path) -> float:
    try:
        return (run_dir / DB_NAME).stat().st_mtime
    except OSError:
        return 0.0


def summarize_run(reader: RunReader) -> RunSummary:
    """One run's summary; malformed metadata values read as '-' / 0, never raise."""
    meta = reader.meta
    steps_all = reader.steps(recorded_only=False)
    last = int(steps_all[-1]) + 1 if len(steps_all) else 0
    data = meta.get("data", "-")
    study = meta.get("study")
    return RunSummary(
        id=reader.id,
        path=str(reader.dir),
        name=str(meta.get("name", reader.id)),
        status=reader.status,
        created=_float(meta.get("created")),
        model=_model_name(meta.get("model")),
        data=str(data.get("name", "-")) if isinstance(data, dict) else str(data),
        steps=last,
        final_loss=reader.last_scalar("loss"),
        final_accuracy=reader.last_scalar("accuracy"),
        test_accuracy=reader.last_scalar("test_accuracy"),
        study=study if isinstance(study, str) else None,
    )


def _float(value) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return 0.0


def _model_name(model) -> str:
    if isinstance(model, dict):
        return str(model.get("name") or model.get("class") or "?")
    return str(model or "?")


@dataclass(frozen=True)
class Unreadable:
    """A run folder that could not be read, and why (``inspector ls`` warns about it)."""

    path: str
    reason: str


def scan_runs(
    root: str | os.PathLike | None = None,
) -> tuple[list[RunSummary], list[Unreadable]]:
    """Every readable run under the root, and the folders that could not be read."""
    out, bad = [], []
    for d in run_dirs(root):
        try:
            with RunReader(d) as reader:
                out.append(summarize_run(reader))
        except StoreError as exc:
            bad.append(Unreadable(str(d), str(exc)))
        except (OSError, ValueError, TypeError) as exc:  # a damaged store, not a bug to show
            bad.append(Unreadable(str(d), f"{type(exc).__name__}: {exc}"))
    return out, bad


def list_runs(root: str | os.PathLike | None = None) -> list[RunSummary]:
    """Every readable run under the root; unreadable folders are skipped (see scan_runs)."""
    return scan_runs(root)[0]


def open_run(run: str | os.PathLike, root: str | os.PathLike | None = None) -> RunReader:
    """A run by folder path, or by id under the runs root."""
    path = Path(run)
    if (path / DB_NAME).is_file():
        return RunReader(path)
    candidate = runs_root(root) / str(run)
    if (candidate / DB_NAME).is_file():
        return RunReader(candidate)
    known = [d.name for d in run_dirs(root)]
    hint = f" Known runs: {', '.join(known[-10:])}." if known else " No runs there yet."
    raise StoreError(f"no run {str(run)!r} (looked in {path} and {candidate}).{hint}")
