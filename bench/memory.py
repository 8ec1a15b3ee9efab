"""Memory of a long every-step run, and the store's size per layer per recorded step.

Trains torchvision resnet18 (3x32x32, batch 64, SGD with momentum) with
``inspector.watch(model, every=1)`` for ``--steps`` steps and prints the process's resident
memory (current and peak) at checkpoints: after the first steps it must stay flat (the
recorder keeps nothing per step; the writer thread's queue is bounded). Then the run's
SQLite size (with its WAL) divided by (recorded layers x recorded steps).

    .venv/bin/python bench/memory.py --steps 1000          # the README figure (~2 min quiet)
    .venv/bin/python bench/memory.py --steps 30 --model mlp  # quick check
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import inspector


def _cases() -> dict:
    """The models of bench/overhead.py (same names, inputs and batch sizes)."""
    spec = importlib.util.spec_from_file_location(
        "bench_overhead", Path(__file__).with_name("overhead.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


CASES = _cases()


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    current = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return current, peak


def store_bytes(run_dir: Path) -> int:
    return sum(p.stat().st_size for p in run_dir.glob("run.sqlite*"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--model", default="resnet18", choices=sorted(CASES))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    build, shape, label = CASES[args.model]
    torch.manual_seed(0)
    model = build()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(*shape), torch.randint(0, 10, (shape[0],))
    checkpoints = sorted({min(args.steps, s) for s in (10, 50, 100, 250, 500, 1000, args.steps)})
    print(f"{label}: every-step recording, {args.steps} steps, load {os.getloadavg()[0]:.2f}")
    print("| step | RSS MiB | peak RSS MiB | store MB |")
    print("| --- | --- | --- | --- |")
    rows = []
    with tempfile.TemporaryDirectory() as root:
        run_dir = Path(root) / "mem"
        t0 = time.perf_counter()
        with inspector.watch(model, run="mem", root=root, every=1) as rec:
            for step in range(1, args.steps + 1):
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                rec.step(loss=loss)
                if step in checkpoints:
                    cur, peak = rss_mib()
                    rows.append((step, cur, peak))
                    size = store_bytes(run_dir) / 1e6
                    print(f"| {step} | {cur:.0f} | {peak:.0f} | {size:.1f} |", flush=True)
        elapsed = time.perf_counter() - t0
        reader = inspector.open_run(run_dir)
        layers = len(reader.layers())
        recorded = len(reader.steps())
        size = store_bytes(run_dir)
    first = next((r for r in rows if r[0] >= min(50, args.steps)), rows[0])
    growth = rows[-1][2] - first[2]
    print(
        f"\npeak RSS {rows[-1][2]:.0f} MiB; growth after step {first[0]}: {growth:+.0f} MiB "
        f"({elapsed:.0f} s)"
    )
    print(
        f"store: {size / 1e6:.1f} MB for {layers} layers (modules + parameters) x {recorded} "
        f"recorded steps = {size / max(layers * recorded, 1) / 1e3:.2f} KB per layer per step"
    )


if __name__ == "__main__":
    main()
