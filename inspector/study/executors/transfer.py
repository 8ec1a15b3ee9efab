"""Ship a finished run folder from a worker to the driver as bytes (a tar archive).

For Ray workers without the driver's file system: the worker records into a local temporary
runs root, packs the run folder, and returns the archive's bytes from its task; the driver
unpacks it under the real runs root. Nothing is pickled beyond Ray's own transport of
``bytes``, and unpacking accepts only regular files and folders inside one top folder named
after the run (no absolute paths, no ``..``, no links or devices), so an archive cannot
write anywhere else.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from inspector.errors import StoreError
from inspector.store import sanitize_name


def pack_run(run_dir: str | Path) -> bytes:
    """The run folder as an uncompressed tar archive (SQLite and .npy barely compress)."""
    run_dir = Path(run_dir)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(run_dir, arcname=run_dir.name, recursive=True)
    return buf.getvalue()


def _checked_members(tar: tarfile.TarFile, run_id: str) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for member in members:
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or "\\" in member.name:
            raise StoreError(f"run archive member {member.name!r} points outside the run folder")
        if not path.parts or path.parts[0] != run_id:
            raise StoreError(f"run archive member {member.name!r} is not inside {run_id}/")
        if not (member.isfile() or member.isdir()):
            raise StoreError(f"run archive member {member.name!r} is not a file or folder")
    return members


def unpack_run(data: bytes, root: str | Path, run_id: str) -> Path:
    """Unpack an archive of run ``run_id`` to ``root/run_id``; returns that folder.

    Extracts into a temporary folder beside it first and renames, so a reader never sees a
    half-unpacked run; refuses to replace an existing folder."""
    if sanitize_name(run_id) != run_id or run_id in ("", ".", ".."):
        raise StoreError(f"run id {run_id!r} is not a plain folder name")
    root = Path(root)
    target = root / run_id
    if target.exists():
        raise StoreError(f"{target} already exists; not replacing it with the worker's copy")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".unpack-{run_id}-", dir=root))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            members = _checked_members(tar, run_id)
            tar.extractall(staging, members=members, filter="data")
        if not (staging / run_id).is_dir():
            raise StoreError(f"run archive holds no folder {run_id}/")
        (staging / run_id).rename(target)
    except tarfile.TarError as exc:
        raise StoreError(f"run archive of {run_id} is damaged: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
