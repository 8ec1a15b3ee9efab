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
        from inspector.models.registry import InputKind, ModelSpec, register, list_models, create_model

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


def test_a_users_own_models_and_probes_modules_do_not_shadow_inspectors(tmp_path: Path) -> None:
    """``models.py`` / ``probes.py`` next to a user's script used to break ``import inspector``
    users (``cannot import name 'list_models' from 'models'``)."""
    (tmp_path / "models.py").write_text("def build():\n    raise SystemExit('user models')\n")
    (tmp_path / "probes.py").write_text("VALUE = 'the user probes module'\n")
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            import inspector
            import models, probes  # the user's own modules
            from inspector.models import create_model, list_models
            from inspector.probes.param_summary import param_summary

            assert probes.VALUE == "the user probes module" and hasattr(models, "build")
            assert "lenet5" in list_models()
            net = create_model("lenet5_bn", num_classes=6)
            table = param_summary(net, torch.randn(2, 1, 28, 28), use_torchinfo=False)
            opt = torch.optim.SGD(net.parameters(), lr=0.1)
            with inspector.watch(net, run="mine", root="runs", every=1) as rec:
                loss = nn.functional.cross_entropy(net(torch.randn(4, 1, 28, 28)),
                                                   torch.tensor([0, 1, 2, 3]))
                loss.backward()
                opt.step()
                rec.step(loss=loss)
            print("ok", table["totals"]["params"])
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")


def test_top_level_entry_points_reexport_the_implementation() -> None:
    import inspector.models
    import inspector.probes.param_summary
    import models
    import probes

    assert models.create_model is inspector.models.create_model
    assert models.list_models is inspector.models.list_models
    assert probes.param_summary is inspector.probes.param_summary.param_summary
