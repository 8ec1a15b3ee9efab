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
    if not base.is_dir():
        return []
    dirs = [p for p in base.iterdir() if (p / DB_NAME).is_file()]
    return sorted(dirs, key=lambda p: (p / DB_NAME).stat().st_mtime)


def summarize_run(reader: RunReader) -> RunSummary:
    meta = reader.meta
    steps_all = reader.steps(recorded_only=False)
    last = int(steps_all[-1]) + 1 if len(steps_all) else 0
    return RunSummary(
        id=reader.id,
        path=str(reader.dir),
        name=str(meta.get("name", reader.id)),
        status=reader.status,
        created=float(meta.get("created", 0.0)),
        model=_model_name(meta.get("model")),
        data=str(meta.get("data", {}).get("name", "-"))
        if isinstance(meta.get("data"), dict)
        else str(meta.get("data", "-")),
        steps=last,
        final_loss=reader.last_scalar("loss"),
        final_accuracy=reader.last_scalar("accuracy"),
        test_accuracy=reader.last_scalar("test_accuracy"),
        study=meta.get("study"),
    )


def _model_name(model) -> str:
    if isinstance(model, dict):
        return str(model.get("name") or model.get("class") or "?")
    return str(model or "?")


def list_runs(root: str | os.PathLike | None = None) -> list[RunSummary]:
    """Every readable run under the root; unreadable folders are skipped, not fatal."""
    out = []
    for d in run_dirs(root):
        try:
            with RunReader(d) as reader:
                out.append(summarize_run(reader))
        except StoreError:
            continue
    return out


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
