"""The viewing side imports its neighbours plainly and still never imports torch.

No "not built yet" fallbacks hide import errors any more (the dashboard imports the study
store and the report builder directly, the CLI imports its command modules directly), so
this test loads every module of those packages in a fresh interpreter and checks that
torch stayed out: reading runs must not pay for (or need) torch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TORCH_FREE = ("inspector/dashboard", "inspector/figures", "inspector/report", "inspector/diagnosis")
# diagnosing a model (not a stored run) resizes its images with torch; nothing above imports it
NEEDS_TORCH = {"inspector.diagnosis.resize"}


def _modules(folder: str) -> list[str]:
    out = []
    for path in sorted((REPO / folder).rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append(".".join(parts))
    return out


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def _imports_torch(code: str) -> subprocess.CompletedProcess:
    return _run(code + "\nimport sys\nassert 'torch' not in sys.modules, 'torch imported'\n")


def test_every_viewing_module_imports_without_torch() -> None:
    modules = [m for folder in TORCH_FREE for m in _modules(folder) if m not in NEEDS_TORCH]
    modules += ["inspector.study", "inspector.study.store", "inspector.study.table"]
    assert len(modules) > 50
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    done = _imports_torch(code)
    assert done.returncode == 0, done.stderr[-3000:]


def test_every_cli_command_registers() -> None:
    """No command module is skipped as "not built yet": each one registers its parser."""
    from inspector.cli import COMMAND_MODULES, build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert len(commands.choices) == len(COMMAND_MODULES) == 9
