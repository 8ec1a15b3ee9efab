"""Lightning and transformers stay optional: the core never imports them."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import inspector
from inspector.integrations import amp, compiled, distributed  # noqa: F401
inspector.watch, inspector.Recorder
heavy = sorted(m for m in ("lightning", "pytorch_lightning", "transformers") if m in sys.modules)
print(",".join(heavy))
"""


def test_import_inspector_does_not_import_the_frameworks() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
