"""Static guard: nothing in the per-step path reads a tensor back to the host.

On CUDA a `.item()`, `.cpu()`, `.tolist()`, `.numpy()` or a Python `if` on a tensor inside a
hook stalls the GPU every call. One-off probes mark deliberate syncs with `# sync-ok`.
The CUDA test in test_robustness.py checks the same at run time with sync debug mode.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PER_STEP = [
    "inspector/probes/tensor_summary.py",
    "inspector/probes/batchnorm_gap.py",
    "inspector/probes/unit_activity.py",
    "inspector/probes/saturation.py",
]
# the recorder's per-step path, by file: hook callbacks, buffers, parameter tracking
HOOK_METHODS = {
    "inspector/recorder/recorder.py": {"_on_forward", "_on_grad", "_on_bn_pre", "_arm"},
    "inspector/recorder/hooks.py": {"__call__"},
    "inspector/recorder/step_buffer.py": {"accumulate"},
    "inspector/recorder/param_tracker.py": {"arm", "_update_sample", "_norms", "norms"},
}
SYNCS = {"item", "cpu", "tolist", "numpy"}
# host-side functions of the per-step files, run after the one device-to-host copy
HOST_SIDE = {"finalize", "_segments", "combine", "_one", "_batch", "fast_path_ok"}


def sync_calls(tree: ast.AST, lines: list[str]) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SYNCS
            and "sync-ok" not in lines[node.lineno - 1]
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}()")
    return found


@pytest.mark.parametrize("path", PER_STEP)
def test_per_step_probes_never_sync(path):
    source = (REPO / path).read_text()
    tree = ast.parse(source)
    funcs = [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name not in HOST_SIDE
    ]  # host-side, after the one copy
    lines = source.splitlines()
    assert [c for f in funcs for c in sync_calls(f, lines)] == []


@pytest.mark.parametrize("path", sorted(HOOK_METHODS))
def test_recorder_hooks_never_sync(path):
    source = (REPO / path).read_text()
    tree = ast.parse(source)
    lines = source.splitlines()
    names = HOOK_METHODS[path]
    hooks = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in names]
    assert {h.name for h in hooks} == names
    assert [c for h in hooks for c in sync_calls(h, lines)] == []
