"""Studies on disk: ``<runs root>/_studies/<id>/study.json`` (format in docs/RECORDS.md).

A study ties ordinary runs together: one cell per configuration, with the run id, its
status and the metrics the tables and the dashboard's study view show. Writes are atomic
(temporary file + ``os.replace``) so a reader never sees half a file while a study runs.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.errors import StoreError
from inspector.store.jsonsafe import to_json
from inspector.store.paths import runs_root
from inspector.study.grid import config_key

STUDIES_DIR = "_studies"
STUDY_FILE = "study.json"


class CellStatus:
    """Cell states (strings, as stored): a run's own status plus the study's ``pending``."""

    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass
class Study:
    """A grid of runs and what was measured on each (``cells``, as in RECORDS.md)."""

    id: str
    kind: str
    axes: dict[str, list]
    settings: dict[str, Any]
    headline: str = "final_loss"
    cells: list[dict] = field(default_factory=list)
    path: Path | None = None
    created: str = ""
    command: str = ""

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "created": self.created,
            "command": self.command,
            "axes": self.axes,
            "settings": self.settings,
            "headline": self.headline,
            "cells": self.cells,
        }

    def cell(self, config: dict) -> dict | None:
        """The cell of ``config`` (matched by its stable key), or None."""
        key = config_key(config)
        return next((c for c in self.cells if config_key(c["config"]) == key), None)

    def finished_cells(self) -> list[dict]:
        return [c for c in self.cells if c.get("status") == CellStatus.FINISHED]

    def save(self) -> Path:
        """Write study.json atomically (readers see the old or the new file, never half)."""
        if self.path is None:
            raise StoreError(f"study {self.id!r} has no path to save to")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = to_json(self.to_dict())
        fd, tmp = tempfile.mkstemp(prefix=".study-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(json.loads(text), indent=1))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.path


def studies_dir(root: str | os.PathLike | None = None) -> Path:
    return runs_root(root) / STUDIES_DIR


def study_path(study_id: str, root: str | os.PathLike | None = None) -> Path:
    return studies_dir(root) / study_id / STUDY_FILE


def new_study(
    study_id: str,
    kind: str,
    axes: dict,
    settings: dict,
    headline: str,
    root: str | os.PathLike | None = None,
    command: str = "",
) -> Study:
    """A study object (not yet saved) at its place under the runs root."""
    return Study(
        id=study_id,
        kind=str(kind),
        axes=axes,
        settings=settings,
        headline=headline,
        path=study_path(study_id, root),
        command=command,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def _read(path: Path) -> Study:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot read study file {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise StoreError(
            f"study file {path} is not valid JSON ({exc}); remove that study "
            "folder or rerun its command"
        ) from exc
    required = ("id", "kind", "axes", "cells")
    if not isinstance(data, dict) or any(k not in data for k in required):
        raise StoreError(f"{path} is not an Inspector study (needs {', '.join(required)})")
    return Study(
        id=str(data["id"]),
        kind=str(data["kind"]),
        axes=dict(data["axes"]),
        settings=dict(data.get("settings") or {}),
        headline=str(data.get("headline") or "final_loss"),
        cells=list(data["cells"]),
        path=path,
        created=str(data.get("created", "")),
        command=str(data.get("command", "")),
    )


def list_studies(root: str | os.PathLike | None = None) -> list[Study]:
    """Every readable study under the runs root, oldest first; broken files are skipped."""
    base = studies_dir(root)
    if not base.is_dir():
        return []
    out = []
    for path in sorted(base.glob(f"*/{STUDY_FILE}")):
        try:
            out.append(_read(path))
        except StoreError:
            continue
    return sorted(out, key=lambda s: (s.created, s.id))


def load_study(id_or_path: str | os.PathLike, root: str | os.PathLike | None = None) -> Study:
    """A study by id (under the runs root), by its folder, or by its study.json path."""
    given = Path(id_or_path)
    for candidate in (given, given / STUDY_FILE, study_path(str(id_or_path), root)):
        if candidate.is_file():
            return _read(candidate)
    known = [s.id for s in list_studies(root)]
    hint = (
        f" Known studies: {', '.join(known[-10:])}."
        if known
        else " No studies there yet; run `inspector study depth ...` or `inspector demo`."
    )
    raise StoreError(
        f"no study {str(id_or_path)!r} (looked for {given} and "
        f"{study_path(str(id_or_path), root)}).{hint}"
    )
