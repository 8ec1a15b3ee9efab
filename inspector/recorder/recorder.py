"""The Recorder: coordinates hooks, one step's buffers and parameter tracking; flushes once.

Hooks never synchronise with the host: they only launch reductions (``probes``) whose
results stay on the device. ``step()`` packs everything into one tensor, starts one
device-to-host copy and hands it to a writer thread. What each part holds lives in its own
file: ``hooks`` (hook lifetime), ``step_buffer`` (one step's data), ``param_tracker``
(parameter norms, snapshots and update ratio).
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager, suppress

import torch
from torch import nn

from inspector.errors import InspectorError
from inspector.integrations.amp import LossScaleTracker, amp_step
from inspector.integrations.compiled import GraphBreakCount, check_compiled
from inspector.probes.batchnorm_gap import (
    input_batch_stats,
    pack_gap_inputs,
    running_stats,
    saved_batch_stats,
)
from inspector.probes.saturation import activation_bounds, can_die
from inspector.probes.tensor_summary import DEFAULT_MAX_SAMPLE, SummarySpec, TensorSummary
from inspector.probes.unit_activity import active_units, unit_dim
from inspector.recorder.flush import FlushWorker, Piece, StepPacket, assemble, pack
from inspector.recorder.hooks import HookSet, _ModuleHook
from inspector.recorder.param_tracker import ParamTracker
from inspector.recorder.schedule import default_schedule
from inspector.recorder.selection import ModuleSelection, first_tensor, unwrap_model
from inspector.recorder.step_buffer import StepBuffer
from inspector.store.writer import RunWriter

NORM_TYPES = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)
BN_TYPES = (nn.modules.batchnorm._BatchNorm,)
# Unrecorded steps' rows and scalars reach the disk at least this often (seconds), and at
# least every MAX_PENDING_STEPS steps (bounded memory whatever the schedule).
WRITE_SECONDS = 2.0
MAX_PENDING_STEPS = 1000
_is_wrapped = torch._C._functorch.is_functorch_wrapped_tensor


def _unrecordable(t: torch.Tensor, compiling: bool | None = None) -> str | None:
    """Why a tensor cannot be summarised (inference mode, torch.func transforms), or None."""
    if torch.compiler.is_compiling() if compiling is None else compiling:
        return None  # traced by dynamo: neither applies, and the checks would break the graph
    if t.is_inference():
        return "forward passes under torch.inference_mode() are not recorded"
    if _is_wrapped(t):
        return "forward passes inside torch.func transforms (grad, vmap, ...) are not recorded"
    return None


class Recorder:
    """Records per-layer statistics of ``model`` into ``writer`` on scheduled steps."""

    def __init__(
        self,
        model: nn.Module,
        writer: RunWriter,
        schedule: Callable[[int], bool] | None = None,
        select: ModuleSelection | None = None,
        max_sample: int | None = DEFAULT_MAX_SAMPLE,
        record_params: bool = True,
    ) -> None:
        # torch.compile: count graph breaks while recording (fullgraph=True is refused)
        self._compile = GraphBreakCount() if check_compiled(model) else None
        model = unwrap_model(model)  # DDP / torch.compile: record the user's own module names
        self.model = model
        self.writer = writer
        self.loss_scale: LossScaleTracker | None = None  # AMP: see use_scaler()
        self.schedule = schedule or default_schedule()
        self.select = select or ModuleSelection()
        self.record_params = record_params
        self.step_index = 0  # the step in progress (0-based), advanced by step()
        self._value = SummarySpec("value", max_sample=max_sample)
        self._grad = SummarySpec("log_abs", max_sample=max_sample)
        self._hooks = HookSet()
        self._closed = False
        self._paused = False
        self._armed = False
        # the recorded layers, for the store's layer table
        self._modules: dict[str, nn.Module] = {}
        self._act_spec: dict[str, SummarySpec] = {}
        self._aliases: dict[int, list[str]] = defaultdict(list)
        self._call_order: dict[str, int] = {}
        self._unit_counts: dict[str, int] = {}
        self._layer_ids: dict[str, int] = {}
        self._bn_eps: dict[str, float] = {}  # BN layers' eps (the host computes the gaps)
        self._grad_hooks: dict[str, _ModuleHook] = {}
        # (layer, kind) / ('param_w'|'param_g', name) -> fast float32 path is safe; learnt
        # by the flush worker from the last recorded step (absent: robust path)
        self._fast: dict[tuple[str, str], bool] = {}
        self._buffer = StepBuffer()
        self._tracker = ParamTracker(model, max_sample, self._fast)
        self._last_time = time.time()
        self._worker: FlushWorker | None = None
        self.write_interval = WRITE_SECONDS
        self._last_write = self._last_time
        self.notes: set[str] = set()  # one line per kind of skipped data (warned once)
        self.failure: str | None = None  # why recording stopped early, if it did
        self._stopped = False
        try:
            self._attach()
            self._arm(0)
        except BaseException:
            self.remove_hooks()
            raise

    # -- hook lifetime ----------------------------------------------------------------
    def _attach(self) -> None:
        for name, module in self.model.named_modules(remove_duplicate=False):
            self._aliases[id(module)].append(name)
        for name, module in self.model.named_modules():
            if not self.select.wants(name, module):
                continue
            self._modules[name] = module
            bounds = activation_bounds(module)
            self._act_spec[name] = (
                SummarySpec("value", bounds=bounds, max_sample=self._value.max_sample)
                if bounds
                else self._value
            )
            self._hooks.add_forward(module, self._on_forward, name)
            if isinstance(module, BN_TYPES) and module.track_running_stats:
                self._hooks.add_forward_pre(module, self._on_bn_pre, name)
                self._bn_eps[name] = float(module.eps)

    def remove_hooks(self) -> None:
        """Remove every hook this recorder added (idempotent)."""
        self._hooks.remove()

    @property
    def hook_count(self) -> int:
        return len(self._hooks)

    @property
    def _pending_steps(self) -> list[tuple[int, float, float | None]]:
        """Unrecorded steps not yet written (tests check the cap)."""
        return self._buffer.pending_steps

    @contextmanager
    def paused(self):
        """Forward passes inside (e.g. evaluation) are not recorded."""
        previous, self._paused = self._paused, True
        try:
            yield self
        finally:
            self._paused = previous

    # -- hooks (no host sync in here) -----------------------------------------------------
    def _live(self) -> bool:
        return self._armed and not self._paused and not self._closed

    def _note(self, text: str) -> None:
        """Warn once per kind of skipped data; the notes are stored with the run."""
        if text not in self.notes:
            self.notes.add(text)
            warnings.warn(f"inspector: {text}", RuntimeWarning, stacklevel=4)

    def _hook_failed(self, name: str, exc: Exception) -> None:
        self._note(f"a hook on {name!r} could not record ({type(exc).__name__}: {exc}); skipped")

    def _on_bn_pre(self, name: str, module: nn.Module, inputs) -> None:
        inp = first_tensor(inputs)
        if inp is not None and _unrecordable(inp):
            return
        if self._live() and module.running_mean is not None:
            self._buffer.bn_running[name] = running_stats(module)

    def _on_forward(self, name: str, module: nn.Module, inputs, output) -> None:
        if not self._live():
            return
        out = first_tensor(output)
        if out is None or not out.is_floating_point():
            return
        compiling = torch.compiler.is_compiling()
        if not compiling and torch._C._current_graph_task_id() != -1:
            # a forward re-run inside backward (activation checkpointing): recorded on its
            # first run already; only gradients through recomputed tensors (reentrant) count
            if out.requires_grad:
                out.register_hook(self._grad_hook(name))
            return
        skip = _unrecordable(out, compiling)
        if skip:
            self._note(skip)
            return
        buf = self._buffer
        self._call_order.setdefault(name, len(self._call_order))
        buf.calls[name] += 1
        robust = not self._fast.get((name, "act"), False)
        summ = TensorSummary.of(out, self._act_spec[name], robust=robust)
        buf.accumulate((name, "act"), summ)
        if out.requires_grad:
            out.register_hook(self._grad_hook(name))
        if isinstance(module, NORM_TYPES):
            inp = first_tensor(inputs)
            if inp is not None and inp.is_floating_point():
                last = buf.last_out
                if last is not None and last[0] is inp and last[1] == inp._version:
                    in_summ = last[2]  # conv -> BN: the input was just summarised as an output
                else:
                    robust = not self._fast.get((name, "norm_in"), False)
                    in_summ = TensorSummary.of(inp, self._value, robust=robust)
                buf.accumulate((name, "norm_in"), in_summ)
                running = buf.bn_running.pop(name, None)
                if running is not None and inp.dim() >= 2:
                    batch = saved_batch_stats(out, running.numel() // 2)
                    if batch is None:
                        batch = input_batch_stats(inp, module.eps)
                    buf.tensors[(name, "bn_gap")] = pack_gap_inputs(*batch, running)
                    per_channel = inp.numel() // inp.shape[1]
                    buf.host_stats.append((name, "bn_batch_size", float(inp.shape[0])))
                    buf.host_stats.append((name, "bn_count_per_channel", float(per_channel)))
        plain = self._act_spec[name].bounds is None
        buf.last_out = (out, out._version, summ) if plain else None
        producer, buf.producer = buf.producer, (out, module)
        if can_die(module) and out.dim() >= 1:
            inp = first_tensor(inputs)  # units follow the layer that fed this rectifier
            fed_by = producer[1] if producer is not None and producer[0] is inp else None
            channel_dim = unit_dim(fed_by, out.dim())
            self._unit_counts[name] = out.shape[channel_dim]
            units = active_units(out, channel_dim=channel_dim)
            old = buf.tensors.get((name, "units"))
            buf.tensors[(name, "units")] = units if old is None else (old | units)

    def _grad_hook(self, name: str) -> _ModuleHook:
        """The gradient hook of ``name``'s outputs (one object per layer, made once)."""
        hook = self._grad_hooks.get(name)
        if hook is None:
            hook = self._grad_hooks[name] = _ModuleHook(self._on_grad, name)
        return hook

    def _on_grad(self, name: str, grad: torch.Tensor) -> None:
        if self._closed or grad is None:
            return
        if not torch.compiler.is_compiling() and _is_wrapped(grad):
            return
        if self.loss_scale is not None:  # AMP: hooks see S * g; record g (no host sync)
            grad = self.loss_scale.unscale(grad)
        robust = not self._fast.get((name, "grad"), False)
        summ = TensorSummary.of(grad, self._grad, robust=robust)
        self._buffer.accumulate((name, "grad"), summ)

    # -- steps ------------------------------------------------------------------------------
    def _arm(self, step: int) -> None:
        self._armed = bool(self.schedule(step))
        self._tracker.arm(self._armed and self.record_params)

    def step(self, **scalars: float | torch.Tensor) -> None:
        """End of one training step: record scalars, flush if this step was recorded."""
        if self._closed:
            raise RuntimeError("inspector: step() called on a closed recorder")
        now = time.time()
        duration = now - self._last_time
        self._last_time = now
        step, recorded = self.step_index, self._armed
        if "scaler" in scalars:  # rec.step(scaler=scaler), same as watch(..., scaler=scaler)
            self.use_scaler(scalars.pop("scaler"))
        if self.loss_scale is not None:
            scalars = {**scalars, **amp_step(self.loss_scale)}
        values = [(key, _scalar(key, value)) for key, value in scalars.items() if value is not None]
        if self._stopped:  # recording stopped (disk full, writer failed): training goes on
            self.step_index += 1
            return
        pending = self._buffer.pending_steps
        self._buffer.pending_scalars += [(key, step, value) for key, value in values]
        if recorded:
            self._flush(step, now, duration)
        else:
            pending.append((step, now, duration))
            due = now - self._last_write + duration >= self.write_interval
            if due or len(pending) >= MAX_PENDING_STEPS:
                self._flush(*pending.pop(), recorded=False)
        observe = getattr(self.schedule, "observe", None)
        if observe is not None:
            observe(step, duration, recorded)
        self.step_index += 1
        self._arm(self.step_index)

    def use_scaler(self, scaler: object | None) -> None:
        """AMP: record gradients divided by ``scaler``'s loss scale and mark skipped steps."""
        if scaler is None:
            self.loss_scale = None
        elif self.loss_scale is None or self.loss_scale.scaler is not scaler:
            self.loss_scale = LossScaleTracker(scaler)

    def _flush(self, step: int, now: float, duration: float | None, recorded: bool = True) -> None:
        self._register_layers()
        buf, tracker = self._buffer, self._tracker
        tensors = [
            (
                Piece(
                    name, kind, t.numel(), {"eps": self._bn_eps[name]} if kind == "bn_gap" else {}
                ),
                t,
            )
            for (name, kind), t in buf.tensors.items()
        ]
        host_scalars = []
        for name, s, value in buf.pending_scalars:
            if isinstance(value, torch.Tensor):
                tensors.append((Piece(name, "scalar", 1, {"step": s}), value))
            else:
                host_scalars.append((name, s, float(value)))
        norms, samples = tracker.norms() if recorded and self.record_params else (None, [])
        saturating = {n for n, spec in self._act_spec.items() if spec.bounds is not None}
        pieces, parts = assemble(
            buf.summaries,
            saturating,
            tensors,
            tracker.names,
            norms,
            samples,
            tracker.has_snapshot,
            param_info=tracker.info,
        )
        host_stats = list(buf.host_stats)
        if recorded:
            host_stats += [(name, "calls", float(n)) for name, n in buf.calls.items()]
        host, ready = pack(parts)
        packet = StepPacket(
            step,
            now,
            duration,
            recorded,
            pieces,
            host,
            ready,
            host_stats,
            host_scalars,
            list(buf.pending_steps),
        )
        buf.clear()
        if self._worker is None:
            self._worker = FlushWorker(self.writer, self._layer_ids, fast=self._fast)
        self._last_write = now
        if self._worker.error or self.writer.degraded:
            self._stop_recording()
            return
        self._worker.submit(packet)

    def _stop_recording(self) -> None:
        """The store cannot take more: remove hooks, warn once, let training go on."""
        if self._stopped:
            return
        self._stopped = True
        self._armed = False
        self.remove_hooks()
        if self.writer.degraded:
            return  # the writer has warned (disk full); the run ends incomplete
        error = (self._worker.error if self._worker else None) or "unknown error"
        self.failure = f"writing the run failed: {error.strip().splitlines()[-1]}"
        warnings.warn(
            f"inspector: {self.failure}; recording stops, training continues",
            RuntimeWarning,
            stacklevel=4,
        )

    def _register_layers(self) -> None:
        """Give new layers store ids; modules are ordered by first forward call."""
        if self._layer_ids and all(n in self._layer_ids for n in self._call_order):
            return
        self._layer_ids.clear()
        rows = []
        base = len(self._modules) + 1
        for i, (name, module) in enumerate(self._modules.items()):
            aliases = self._aliases[id(module)]
            info = {
                "aliases": aliases if len(aliases) > 1 else [],
                "shared": len(aliases) > 1,
                "bounds": self._act_spec[name].bounds,
                "norm": isinstance(module, NORM_TYPES),
                "can_die": can_die(module),
                "units": self._unit_counts.get(name, _units_of(module)),
            }
            rows.append(
                {
                    "name": name,
                    "role": "module",
                    "type": type(module).__name__,
                    "position": self._call_order.get(name, base + i),
                    "info": info,
                }
            )
        rows += self._tracker.layer_rows(self.model)
        self._layer_ids.update(self.writer.register_layers(rows))

    # -- end --------------------------------------------------------------------------------
    def close(self) -> None:
        """Remove hooks, write what is pending, stop the writer thread. Idempotent."""
        if self._closed:
            return
        if self._compile is not None:  # torch.compile: graph breaks while recording
            info = self._compile.finish(len(self._call_order), self.step_index)
            with suppress(Exception):  # informative only; a broken store is reported below
                self.writer.set_meta({"compile": info})
        self.remove_hooks()
        try:
            buf = self._buffer
            if buf.pending_scalars or buf.pending_steps:
                last = buf.pending_steps.pop() if buf.pending_steps else None
                step, now, duration = last if last else (self.step_index - 1, time.time(), None)
                buf.drop_device_data()
                self._flush(step, now, duration, recorded=False)
        finally:
            self._closed = True
            if self._worker is not None:
                self._worker.close()
                error = self._worker.error
                self._worker = None
                if error:
                    self.failure = self.failure or (
                        f"writing the run failed: {error.strip().splitlines()[-1]}"
                    )
                    raise RuntimeError(f"inspector: {self.failure}")


def _scalar(key: str, value: object) -> torch.Tensor | float:
    """A ``rec.step()`` value as one number: a one-element tensor (kept on its device, no
    sync) or a float. Anything else is the caller's mistake, reported at the call."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise InspectorError(
                f"rec.step({key}=...) needs a single number, got a tensor of shape "
                f"{tuple(value.shape)}; pass e.g. loss.mean() or loss.item()"
            )
        return value.detach().reshape(1)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InspectorError(
            f"rec.step({key}=...) needs a number, got {type(value).__name__}"
        ) from None


def _units_of(module: nn.Module) -> int:
    """Number of units (channels/features) of a module's output where it is knowable."""
    for attr in ("out_channels", "out_features", "num_features", "hidden_size"):
        if hasattr(module, attr):
            return int(getattr(module, attr))
    return 0
