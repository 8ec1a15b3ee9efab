"""Recorder overhead, side by side with the peers, in one process.

Conditions are alternated round by round (so drift and other load hit all of them alike),
on the same model and optimizer (SGD with momentum):

* baseline: plain training steps;
* every step: ``inspector.watch(model, every=1)``: all layers, every step;
* default: ``inspector.watch(model)``: the default schedule after its first 10 steps (mean
  ms/step), and how many of all its steps it recorded;
* with ``--peers``, when importable: ``wandb.watch(model, log="all", log_freq=1)`` in offline
  mode (a temporary folder) and TensorBoard ``add_histogram`` of every weight and gradient
  every step.

Prints a Markdown table of median ms/step (mean for the default schedule, which records some
steps and not others) and ratios to the baseline, with ``os.getloadavg()`` before and after.
When the 1-minute load before the run is above 0.5 the machine is shared and ratios mislead
(contention inflates the baseline and hides fixed costs): they are withheld unless
``--force``, and then labelled.

    .venv/bin/python bench/overhead.py --peers                      # the README table
    .venv/bin/python bench/overhead.py --models mlp --steps 5 --rounds 1 --force   # quick check
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator

import torch
from torch import nn

import inspector
from inspector.probes import native

LOAD_LIMIT = 0.5
DEFAULT_WARMUP = 10  # untimed first steps of each default-schedule run
WARMUP_STEPS = 5  # untimed recorded steps before the rounds (the C kernels load once)


def tanh_cnn20(width: int = 32) -> nn.Module:
    """20 conv+tanh layers, 32 channels, 1x28x28 input (the issue's reference CNN)."""
    layers: list[nn.Module] = [nn.Conv2d(1, width, 3, padding=1), nn.Tanh()]
    for _ in range(19):
        layers += [nn.Conv2d(width, width, 3, padding=1), nn.Tanh()]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10)]
    return nn.Sequential(*layers)


def tanh_mlp6(width: int = 256) -> nn.Module:
    """6 Linear+tanh layers 256 wide on 784 inputs: small layers, where fixed costs show."""
    layers: list[nn.Module] = [nn.Linear(784, width), nn.Tanh()]
    for _ in range(5):
        layers += [nn.Linear(width, width), nn.Tanh()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def resnet18() -> nn.Module:
    import torchvision

    return torchvision.models.resnet18(weights=None, num_classes=10)


CASES: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], str]] = {
    "resnet18": (resnet18, (64, 3, 32, 32), "torchvision resnet18 (3x32x32, 64)"),
    "tanh_cnn20": (tanh_cnn20, (128, 1, 28, 28), "20-layer tanh CNN, 32 ch (1x28x28, 128)"),
    "mlp": (tanh_mlp6, (128, 784), "6-layer tanh MLP 256 (784 in, 128)"),
}


class Trainer:
    """One model, optimizer and batch; times steps under a context of hooks."""

    def __init__(self, name: str) -> None:
        build, shape, self.label = CASES[name]
        torch.manual_seed(0)
        self.name = name
        self.model = build()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.x = torch.randn(*shape)
        self.y = torch.randint(0, 10, (shape[0],))
        self.loss_fn = nn.CrossEntropyLoss()

    def steps(self, n: int, after: Callable[[torch.Tensor], None] | None = None) -> list[float]:
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            loss = self.loss_fn(self.model(self.x), self.y)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            if after is not None:
                after(loss)
            times.append(time.perf_counter() - t0)
        return times


@contextlib.contextmanager
def inspector_cond(tr: Trainer, root: str, tag: str, every: int | None, info: dict):
    with inspector.watch(tr.model, run=f"{tr.name}-{tag}", root=root, every=every) as rec:
        yield lambda loss: rec.step(loss=loss)
    reader = inspector.open_run(os.path.join(root, f"{tr.name}-{tag}"))
    info.setdefault("recorded", []).append((len(reader.steps()), rec.step_index))


@contextlib.contextmanager
def wandb_cond(tr: Trainer, root: str, tag: str) -> Iterator[Callable]:
    import wandb

    os.environ["WANDB_MODE"] = "offline"
    os.environ.setdefault("WANDB_SILENT", "true")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run = wandb.init(project="inspector-bench", name=f"{tr.name}-{tag}", dir=root)
        wandb.watch(tr.model, log="all", log_freq=1)
    try:
        yield lambda loss: run.log({"loss": float(loss.detach())})
    finally:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            wandb.unwatch(tr.model)
            run.finish()


@contextlib.contextmanager
def tensorboard_cond(tr: Trainer, root: str, tag: str) -> Iterator[Callable]:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(os.path.join(root, f"tb-{tr.name}-{tag}"))
    step = [0]

    def log(loss: torch.Tensor) -> None:
        for name, p in tr.model.named_parameters():
            writer.add_histogram(f"weights/{name}", p.detach(), step[0])
            if p.grad is not None:
                writer.add_histogram(f"grads/{name}", p.grad, step[0])
        writer.add_scalar("loss", float(loss.detach()), step[0])
        step[0] += 1

    try:
        yield log
    finally:
        writer.close()


def available_peers() -> list[str]:
    peers = []
    for peer, module in (("wandb", "wandb"), ("tensorboard", "torch.utils.tensorboard")):
        try:
            __import__(module)
            peers.append(peer)
        except Exception:  # not installed (an optional extra): that column is left out
            pass
    return peers


def bench_case(name: str, rounds: int, steps: int, peers: list[str], root: str) -> dict:
    """Median (mean for the default schedule) seconds per step of each condition."""
    tr = Trainer(name)
    tr.steps(3)  # warm-up
    # warm-up recording (the C kernels are built or loaded from the cache once per process,
    # on the first summary), so the rounds time the steady state
    t0 = time.perf_counter()
    with inspector_cond(tr, root, "warmup", 1, {}) as after:
        tr.steps(WARMUP_STEPS, after)
    warmup_s = time.perf_counter() - t0
    times: dict[str, list[float]] = {"baseline": [], "every step": [], "default": []}
    times |= {p: [] for p in peers}
    info: dict[str, list] = {}
    for r in range(rounds):
        times["baseline"] += tr.steps(steps)
        with inspector_cond(tr, root, f"every-{r}", 1, {}) as after:
            times["every step"] += tr.steps(steps, after)
        # the default schedule: its dense start untimed, then its steady state (what a long
        # run pays on average); the recorded / total step counts are of these runs
        with inspector_cond(tr, root, f"default-{r}", None, info) as after:
            tr.steps(DEFAULT_WARMUP, after)
            times["default"] += tr.steps(steps * 3, after)
        if "wandb" in peers:
            with wandb_cond(tr, root, str(r)) as after:
                tr.steps(1, after)  # first step builds wandb's hooks and files
                times["wandb"] += tr.steps(steps, after)
        if "tensorboard" in peers:
            with tensorboard_cond(tr, root, str(r)) as after:
                times["tensorboard"] += tr.steps(steps, after)
        times["baseline"] += tr.steps(steps)  # bracket the round
    out = {
        k: (statistics.fmean(v) if k == "default" else statistics.median(v))
        for k, v in times.items()
    }
    out["baseline_mean"] = statistics.fmean(times["baseline"])
    out["warmup_s"] = warmup_s
    out["recorded"] = tuple(map(sum, zip(*info["recorded"])))
    return out


def table(results: dict[str, dict], peers: list[str], ratios: bool) -> str:
    cols = ["every step", "default", *peers]
    titles = {
        "every step": "Inspector every step",
        "default": "Inspector default (recorded)",
        "wandb": 'wandb.watch(log="all", log_freq=1)',
        "tensorboard": "TensorBoard add_histogram w+g every step",
    }
    lines = [
        "| model (input, batch) | baseline ms/step | " + " | ".join(titles[c] for c in cols) + " |",
        "| --- | --- |" + " --- |" * len(cols),
    ]
    for name, res in results.items():
        cells = []
        for c in cols:
            base = res["baseline_mean"] if c == "default" else res["baseline"]
            cell = f"{res[c] / base:.2f}x" if ratios else f"{res[c] * 1000:.1f} ms"
            if c == "default":
                rec, total = res["recorded"]
                cell += f" ({rec}/{total} steps)"
            cells.append(cell)
        label = CASES[name][2]
        lines.append(f"| {label} | {res['baseline'] * 1000:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per condition per round")
    parser.add_argument("--models", default="resnet18,tanh_cnn20,mlp")
    parser.add_argument("--peers", action="store_true", help="add wandb / TensorBoard columns")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--force", action="store_true", help="print ratios even on a busy machine")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {sorted(CASES)}")
    peers = available_peers() if args.peers else []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as root:
        results = {n: bench_case(n, args.rounds, args.steps, peers, root) for n in names}
    load_after = os.getloadavg()
    busy = load_before[0] > LOAD_LIMIT
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M')}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {args.rounds} rounds x {args.steps} steps, "
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    if busy:
        print(
            "\n"
            + "!" * 78
            + f"\n!! WARNING: 1-min load {load_before[0]:.2f} > {LOAD_LIMIT} before the run:"
            " the machine is shared.\n!! Contention inflates the baseline and hides fixed costs;"
            " ratios are not\n!! comparable to a quiet machine. "
            + (
                "Printed anyway (--force), LABELLED UNRELIABLE."
                if args.force
                else "Ratios withheld (--force prints them)."
            )
            + "\n"
            + "!" * 78
        )
    show_ratios = not busy or args.force
    if busy and args.force:
        print(f"\n**UNRELIABLE (shared machine, load {load_before[0]:.2f})**")
    print("\n" + table(results, peers, show_ratios))
    if not show_ratios:
        print("\n(ms/step shown instead of ratios)")
    warm = ", ".join(f"{n} {r['warmup_s']:.1f} s" for n, r in results.items())
    state = native.unavailable_reason or "on"
    print(
        f"\nC kernels: {state}; first recording of {WARMUP_STEPS} steps (the first model's "
        f"includes loading or building them): {warm}"
    )


if __name__ == "__main__":
    main()
