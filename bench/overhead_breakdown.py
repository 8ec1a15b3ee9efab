"""Where the recorder's every-step time goes, next to the floor a per-layer hook can reach.

In one process, conditions alternated round by round on the same model and optimizer as
``bench/overhead.py``:

* baseline: plain training steps;
* floor, one read: a forward hook and a gradient hook on every module the recorder watches
  that do the least an every-element statistic needs: one ``sum`` over the whole tensor;
* floor + params: the same plus one ``_foreach_norm`` of every weight and every gradient per
  step (the least exact parameter norms need);
* every step: ``inspector.watch(model, every=1)``, with timers around its parts: forward
  hooks, gradient hooks (the summaries inside them), the end-of-step flush split into the
  parameter norms, the batched histograms and the rest, and the writer thread's CPU time.

The floors are what any recorder built from eager PyTorch ops pays on this machine to read
every activation and gradient once: the gap between them and "every step" is what a faster
recorder can still win; the floor itself is not.

    .venv/bin/python bench/overhead_breakdown.py
    .venv/bin/python bench/overhead_breakdown.py --models mlp --rounds 1 --steps 20 --force
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import CASES, LOAD_LIMIT, Trainer  # noqa: E402

import inspector  # noqa: E402
from inspector.recorder import flush as flush_mod  # noqa: E402
from inspector.recorder import hooks as hooks_mod  # noqa: E402
from inspector.recorder import param_tracker, recorder  # noqa: E402

PARTS = ("forward hooks", "gradient hooks", "param norms", "histograms", "flush, rest", "writer")


class Timers:
    """Wall seconds (thread CPU seconds for the writer) spent in the recorder's parts."""

    def __init__(self) -> None:
        self.acc = dict.fromkeys(PARTS, 0.0)
        self._undo: list[Callable[[], None]] = []

    def _patch(self, owner: object, attr: str, part: str, clock=time.perf_counter) -> None:
        original = getattr(owner, attr)
        acc = self.acc

        def timed(*args, **kwargs):
            t0 = clock()
            try:
                return original(*args, **kwargs)
            finally:
                acc[part] += clock() - t0

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, original))

    def install(self) -> None:
        call = hooks_mod._ModuleHook.__call__
        acc = self.acc

        def hook_call(hook, *args):
            t0 = time.perf_counter()
            try:
                return call(hook, *args)
            finally:
                acc["gradient hooks" if len(args) == 1 else "forward hooks"] += (
                    time.perf_counter() - t0
                )

        hooks_mod._ModuleHook.__call__ = hook_call
        self._undo.append(lambda: setattr(hooks_mod._ModuleHook, "__call__", call))
        self._patch(recorder.Recorder, "_flush", "flush, rest")
        self._patch(param_tracker.ParamTracker, "norms", "param norms")
        self._patch(param_tracker.ParamTracker, "arm", "param norms")
        self._patch(flush_mod, "batch_histograms", "histograms")
        self._patch(flush_mod, "unpack", "writer", time.thread_time)
        self._patch(flush_mod.RunWriter, "write_step", "writer", time.thread_time)

    def remove(self) -> None:
        while self._undo:
            self._undo.pop()()

    def per_step(self, steps: int) -> dict[str, float]:
        out = {k: v / steps for k, v in self.acc.items()}
        # the flush timer holds the norms and histograms: keep only what is left
        out["flush, rest"] -= out["param norms"] + out["histograms"]
        return out


def watched_modules(tr: Trainer) -> list[torch.nn.Module]:
    """The modules ``inspector.watch`` hooks on this model (its own selection)."""
    with tempfile.TemporaryDirectory() as root:
        with inspector.watch(tr.model, run="probe", root=root, every=1) as rec:
            return list(rec._modules.values())


@contextlib.contextmanager
def floor_hooks(tr: Trainer, modules: list, params: bool) -> Iterator[Callable]:
    """One sum over every output and every output gradient (and the parameter norms)."""
    kept: list[torch.Tensor] = []

    def on_grad(grad: torch.Tensor) -> None:
        kept.append(grad.detach().sum())

    def on_forward(module, inputs, output) -> None:
        if isinstance(output, torch.Tensor) and output.is_floating_point():
            kept.append(output.detach().sum())
            if output.requires_grad:
                output.register_hook(on_grad)

    handles = [m.register_forward_hook(on_forward) for m in modules]
    plist = [p for p in tr.model.parameters()]

    def after(loss: torch.Tensor) -> None:
        if params:
            with torch.no_grad():
                kept.extend(torch._foreach_norm([p.detach() for p in plist], 2))
                grads = [p.grad.detach() for p in plist if p.grad is not None]
                kept.extend(torch._foreach_norm(grads, 2))
        torch.stack(kept).cpu()  # one host copy per step, like the recorder
        kept.clear()

    try:
        yield after
    finally:
        for h in handles:
            h.remove()


def bench_case(name: str, rounds: int, steps: int) -> dict:
    tr = Trainer(name)
    tr.steps(3)
    modules = watched_modules(tr)
    with tempfile.TemporaryDirectory() as root:
        # the C kernels load once per process: the rounds time the steady state
        with inspector.watch(tr.model, run="warmup", root=root, every=1) as rec:
            tr.steps(5, lambda loss: rec.step(loss=loss))
        times: dict[str, list[float]] = {
            "baseline": [],
            "floor": [],
            "floor+params": [],
            "every": [],
        }
        timers = Timers()
        timed_steps = 0
        for r in range(rounds):
            times["baseline"] += tr.steps(steps)
            with floor_hooks(tr, modules, params=False) as after:
                tr.steps(2, after)
                times["floor"] += tr.steps(steps, after)
            with floor_hooks(tr, modules, params=True) as after:
                tr.steps(2, after)
                times["floor+params"] += tr.steps(steps, after)
            with inspector.watch(tr.model, run=f"every-{r}", root=root, every=1) as rec:
                tr.steps(2, lambda loss: rec.step(loss=loss))
                timers.install()
                try:
                    times["every"] += tr.steps(steps, lambda loss: rec.step(loss=loss))
                    timed_steps += steps
                finally:
                    timers.remove()
            times["baseline"] += tr.steps(steps)
    out = {k: statistics.median(v) for k, v in times.items()}
    out["parts"] = timers.per_step(timed_steps)
    return out


def report(name: str, res: dict, ratios: bool) -> str:
    base = res["baseline"]

    def cell(seconds: float) -> str:
        ms = f"{seconds * 1000:.1f} ms"
        return f"{ms} ({1 + seconds / base:.2f}x)" if ratios else ms

    lines = [f"\n{CASES[name][2]}: baseline {base * 1000:.1f} ms/step"]
    lines.append(f"  floor, one read of every act+grad: +{cell(res['floor'] - base)}")
    lines.append(f"  floor + exact parameter norms:     +{cell(res['floor+params'] - base)}")
    lines.append(f"  Inspector every step:              +{cell(res['every'] - base)}")
    parts = res["parts"]
    inside = sum(v for k, v in parts.items() if k != "writer")
    for part in PARTS:
        unit = " (writer thread CPU)" if part == "writer" else ""
        lines.append(f"    {part:<16} {parts[part] * 1000:7.2f} ms{unit}")
    rest = res["every"] - base - inside
    lines.append(f"    {'outside (model)':<16} {rest * 1000:7.2f} ms (slower model ops: caches)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per condition per round")
    parser.add_argument("--models", default="resnet18,tanh_cnn20,mlp")
    parser.add_argument("--force", action="store_true", help="print ratios even on a busy machine")
    args = parser.parse_args(argv)
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {sorted(CASES)}")
    load_before = os.getloadavg()
    results = {n: bench_case(n, args.rounds, args.steps) for n in names}
    load_after = os.getloadavg()
    busy = load_before[0] > LOAD_LIMIT
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M')}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {args.rounds} rounds x {args.steps} steps, "
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}"
    )
    if busy and not args.force:
        print(
            f"WARNING: 1-min load {load_before[0]:.2f} > {LOAD_LIMIT} before the run: the "
            "machine is shared; ratios withheld (--force prints them, labelled)."
        )
    elif busy:
        print(f"WARNING: measured on a shared machine (load {load_before[0]:.2f}).")
    for name, res in results.items():
        print(report(name, res, ratios=not busy or args.force))


if __name__ == "__main__":
    main()
