"""Names that cannot collide: a user's registration or own ``models.py`` never hides Inspector's."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_user_registration_first_keeps_the_builtin_models(tmp_path: Path) -> None:
    """Registering before anything looked a model up used to hide all built-in entries."""
    done = run_python(
        """
        from torch import nn
        from models.registry import InputKind, ModelSpec, register, list_models, create_model

        register(ModelSpec("mine", lambda num_classes=6: nn.Linear(4, num_classes),
                           InputKind.IMAGE, "user", "", "user"))
        names = list_models()
        assert "mine" in names and "lenet5" in names and len(names) > 30, names
        create_model("lenet5")
        try:
            register(ModelSpec("lenet5", nn.Identity, InputKind.IMAGE, "user", "", "user"))
        except ValueError as exc:
            print("refused:", exc)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "refused: model 'lenet5' registered twice" in done.stdout


def test_every_rule_id_is_documented_in_the_readme() -> None:
    from inspector.diagnosis.finding import RuleId

    readme = (REPO / "README.md").read_text()
    missing = [rule.value for rule in RuleId if f"`{rule.value}`" not in readme]
    assert not missing, f"rules without a README row: {missing}"
