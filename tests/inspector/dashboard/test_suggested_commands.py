"""Every command the dashboard and the reports suggest is valid: it parses with the real
CLI parser, names the runs root being watched, and (with tiny --steps) runs to success and
writes where the dashboard looks."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from inspector.cli import build_parser
from inspector.dashboard import commands
from inspector.store import list_runs

REPO = Path(__file__).resolve().parents[3]
# Too long for a unit test (12 runs / a server): parsed and checked, not run.
NOT_RUN = ("inspector demo", "inspector dashboard")


def _argv(cmd: str) -> list[str]:
    argv = shlex.split(cmd)
    assert argv[0] == "inspector", cmd
    return argv[1:]


def _tiny(cmd: str) -> str:
    return re.sub(r"--depths [\d,]+", "--depths 2", re.sub(r"--steps \d+", "--steps 2", cmd))


def _inspector(cmd: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("inspector")  # the installed console script
    argv = [str(script), *_argv(_tiny(cmd))]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=REPO)


def test_every_suggestion_parses_and_names_the_root(tmp_path):
    parser = build_parser()
    for where, cmd in commands.suggested(tmp_path / "my runs", "some-run").items():
        args = parser.parse_args(_argv(cmd))  # SystemExit on an unknown flag or choice
        assert Path(args.runs_root) == tmp_path / "my runs", where
        assert "bn_lenet" not in cmd


def test_models_suggested_exist():
    from inspector.models import list_models

    names = set(list_models())
    assert {commands.FIRST_MODEL, commands.NO_BN_MODEL} <= names


def test_suggested_commands_run_and_write_into_the_watched_root(tmp_path):
    """Run each one (tiny --steps) in a fresh process; the diagnose suggestion on the run
    the run suggestion made."""
    root = tmp_path / "watched root"
    ran = set()
    for where, cmd in commands.suggested(root, "RUN").items():
        if cmd.startswith(NOT_RUN) or "--run RUN" in cmd or cmd in ran:
            continue
        ran.add(cmd)
        done = _inspector(cmd)
        assert done.returncode == 0, (where, cmd, done.stdout[-2000:], done.stderr[-2000:])
    made = [r.id for r in list_runs(root)]
    assert len(made) >= 3, made  # lenet5_bn, lenet5, and the study's cells
    run_id = next(r for r in made if "lenet5" in r)
    done = _inspector(commands.diagnose_command(root, run_id))
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])


def test_no_command_is_written_outside_the_builders():
    """Views and reports take their commands from inspector.dashboard.commands."""
    literal = re.compile(r"`inspector (run|demo|diagnose|study|report|dashboard)\b")
    sources = list((REPO / "inspector/dashboard").glob("*.py"))
    sources += list((REPO / "inspector/report").glob("*.py"))
    offenders = [
        str(p.relative_to(REPO))
        for p in sources
        if p.name != "commands.py" and literal.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders
