"""Dashboard load time on a large run: 100 layers x 2000 recorded steps.

Writes a synthetic run with RunWriter in the store's real format (per-layer statistics,
activation and gradient histograms every step, parameter statistics, scalars), then times
(1) each figure builder a view calls, on a fresh reader (no cache), with the size of the
figure sent to the browser, and (2) Streamlit's own first render of the heaviest pages
through AppTest (server side: script run + figure building; the browser's drawing is not
included). Synthetic numbers are random walks: this measures speed, not diagnosis.

    .venv/bin/python bench/dashboard_load.py [--layers 100] [--steps 2000] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from inspector import figures as F
from inspector.probes.bins import ACTIVATION_BINS, LOG_MAGNITUDE_BINS
from inspector.store import RunReader, RunStatus, RunWriter

APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"
TYPES = ["Conv2d", "BatchNorm2d", "ReLU", "Tanh"]


def write_run(root: Path, layers: int, steps: int, seed: int = 0) -> Path:
    """A finished run with ``layers`` modules (+ a weight per conv) recorded every step."""
    rng = np.random.default_rng(seed)
    writer = RunWriter.create(
        "large",
        root=root,
        meta={"model": {"name": f"synthetic{layers}"}, "data": {"name": "synthetic"}},
    )
    rows = [
        {
            "name": f"body.{i}",
            "role": "module",
            "type": TYPES[i % 4],
            "position": i,
            "info": {"units": 32},
        }
        for i in range(layers)
    ]
    rows += [
        {
            "name": f"body.{i}.weight",
            "role": "param",
            "type": "weight",
            "position": i,
            "info": {"module": f"body.{i}", "numel": 9216, "trainable": True},
        }
        for i in range(0, layers, 4)
    ]
    ids = writer.register_layers(rows)
    mods = [ids[r["name"]] for r in rows if r["role"] == "module"]
    params = [ids[r["name"]] for r in rows if r["role"] == "param"]
    depth_scale = 10.0 ** -np.linspace(0, 4, layers)[::-1]  # gradients shrink towards input
    hist_act = rng.integers(0, 200, size=(8, ACTIVATION_BINS)).astype(np.int32)
    hist_grad = rng.integers(0, 200, size=(8, LOG_MAGNITUDE_BINS)).astype(np.int32)
    loss = 2.3
    for step in range(steps):
        walk = np.exp(rng.normal(0, 0.05, size=layers))
        grad = depth_scale * walk
        stats = []
        for i, lid in enumerate(mods):
            mean, std = rng.normal(0, 0.1), abs(rng.normal(1, 0.1))
            stats += [
                ("act_mean", lid, mean),
                ("act_std", lid, std),
                ("act_min", lid, mean - 3 * std),
                ("act_max", lid, mean + 3 * std),
                ("act_norm", lid, std * 50),
                ("act_zero_frac", lid, rng.random() * 0.1),
                ("grad_norm", lid, grad[i]),
                ("grad_min", lid, -grad[i] / 10),
                ("grad_max", lid, grad[i] / 10),
                ("grad_std", lid, grad[i] / 50),
            ]
            if i % 4 == 2:
                stats.append(("dead_frac", lid, rng.random() * 0.3))
            if i % 4 == 3:
                stats.append(("act_sat_frac", lid, rng.random() * 0.5))
            if i % 4 == 1:
                stats += [
                    ("bn_mean_gap", lid, rng.random() * 0.2),
                    ("bn_var_gap", lid, rng.random() * 0.2),
                ]
        for j, lid in enumerate(params):
            stats += [
                ("g_norm", lid, grad[j * 4] * 3),
                ("w_norm", lid, 5.0 + rng.random()),
                ("update_ratio", lid, 1e-3 * rng.random()),
            ]
        hists = [("act", lid, hist_act[(step + i) % 8].tobytes()) for i, lid in enumerate(mods)]
        hists += [("grad", lid, hist_grad[(step + i) % 8].tobytes()) for i, lid in enumerate(mods)]
        loss = loss * 0.999 + rng.normal(0, 0.01)
        writer.write_step(
            step,
            1e9 + step * 0.05,
            0.05,
            True,
            stats=stats,
            hists=hists,
            scalars=[("loss", step, loss), ("accuracy", step, 1 - loss / 2.3)],
        )
    writer.set_status(RunStatus.FINISHED)
    writer.close()
    return root / "large"


def time_builders(run_dir: Path, layers: int) -> list[tuple[str, float, int]]:
    mid = f"body.{layers // 2}"
    calls = [
        ("open reader + list layers", lambda r: r.layers()),
        ("loss_accuracy", F.loss_accuracy),
        ("gradient_norms_by_layer", F.gradient_norms_by_layer),
        ("gradient_norms_by_layer(param)", lambda r: F.gradient_norms_by_layer(r, None, "param")),
        ("gradient_heatmap", F.gradient_heatmap),
        ("activation_histogram_heatmap", lambda r: F.activation_histogram_heatmap(r, mid)),
        ("activation_moments", lambda r: F.activation_moments(r, mid)),
        ("activation_fractions(dead_frac)", lambda r: F.activation_fractions(r, "dead_frac")),
        ("bn_gaps", F.bn_gaps),
        (
            "architecture_rows + findings_rows",
            lambda r: (F.architecture_rows(r), F.findings_rows(r)),
        ),
    ]
    out = []
    for name, fn in calls:
        with RunReader(run_dir) as reader:  # fresh reader each time: nothing cached
            t = time.perf_counter()
            result = fn(reader)
            seconds = time.perf_counter() - t
        size = len(result.to_json()) if hasattr(result, "to_json") else 0
        out.append((name, seconds, size))
    return out


def time_pages(root: Path, views: list[str]) -> list[tuple[str, float]]:
    from streamlit.testing.v1 import AppTest

    os.environ["INSPECTOR_RUNS_ROOT"] = str(root)
    at = AppTest.from_file(str(APP), default_timeout=300)
    t = time.perf_counter()
    at.run()
    out = [("app start + overview (cold)", time.perf_counter() - t)]
    for view in views:
        t = time.perf_counter()
        at.switch_page(f"inspector/dashboard/pages/{view}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        out.append((f"{view} (cold)", time.perf_counter() - t))
    for view in views[:2]:
        t = time.perf_counter()
        at.switch_page(f"inspector/dashboard/pages/{view}.py").run()
        out.append((f"{view} (cached)", time.perf_counter() - t))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=100)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--root", default=None, help="reuse/keep the run here (default: temp dir)")
    args = ap.parse_args()
    root = Path(args.root or tempfile.mkdtemp(prefix="inspector-bench-"))
    run_dir = root / "large"
    if not (run_dir / "run.sqlite").is_file():
        t = time.perf_counter()
        write_run(root, args.layers, args.steps)
        print(
            f"wrote {args.layers} layers x {args.steps} steps in {time.perf_counter() - t:.1f}s"
            f" ({(run_dir / 'run.sqlite').stat().st_size / 1e6:.0f} MB) at {run_dir}"
        )
    print(f"\n{'builder (fresh reader)':40s} {'seconds':>8s} {'figure KB':>10s}")
    for name, seconds, size in time_builders(run_dir, args.layers):
        print(f"{name:40s} {seconds:8.3f} {size / 1024:10.0f}")
    print(f"\n{'page (AppTest, server side)':40s} {'seconds':>8s}")
    for name, seconds in time_pages(root, ["gradient_flow", "activations", "batchnorm", "compare"]):
        print(f"{name:40s} {seconds:8.3f}")


if __name__ == "__main__":
    main()
