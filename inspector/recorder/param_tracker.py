"""The model's parameters as the recorder follows them: norms, gradients and update ratio.

``update_ratio`` needs the weights from before the optimizer step; they are snapshotted, on
a fixed systematic sample of each tensor, when a recorded step is armed. No host sync here.
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch import nn

from inspector.probes import native
from inspector.probes.tensor_summary import sample_stride


class ParamTracker:
    """The parameter list, its update-sample strides, the snapshot and the fast-path flags."""

    def __init__(self, model: nn.Module, max_sample: int | None, fast: dict) -> None:
        self.params: list[tuple[str, nn.Parameter]] = list(model.named_parameters())
        self.max_sample = max_sample
        # update_ratio is measured on a fixed systematic sample of each tensor (exact mode:
        # every element): snapshot, subtraction and norm then cost ~nothing per step
        self.update_strides = [
            sample_stride(p.numel(), p.numel(), max_sample) for _, p in self.params
        ]
        # elements in each sample (the snapshot's and the gradient sample's buffer sizes)
        self.sample_lengths = [
            -(-p.numel() // stride) for (_, p), stride in zip(self.params, self.update_strides)
        ]
        # ('param_w'|'param_g', name) -> fast float32 norm is safe; shared with the flush
        # worker, which learns it from the last recorded step (absent: robust path)
        self.fast = fast
        self.info: dict = {}  # numels and which norms took the fast path, for the flush
        self.snapshot: list[torch.Tensor] | None = None
        self._views: tuple[tuple[int, ...], list[torch.Tensor]] | None = None
        self.has_snapshot = False
        # CPU: the C pass refreshes the snapshot while it reads the weights at the end of a
        # recorded step; the next step, armed right after, then needs no copy of its own
        self._fresh = False
        self._grad_samples: list[torch.Tensor] | None = None  # reused sample buffers

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.params]

    def arm(self, recorded: bool) -> None:
        """Snapshot the weights' samples before a recorded step (buffers reused), else drop."""
        fresh, self._fresh = self._fresh, False
        if recorded and self.params:
            if fresh:  # the C pass has just copied the weights' samples into it
                self.has_snapshot = True
                return
            weights = self._update_sample()
            with torch.no_grad():
                if self.snapshot is None:
                    self.snapshot = [w.clone() for w in weights]
                elif self._native(weights):  # CPU: one C call for every tensor
                    native.gather(weights, self.snapshot)
                else:  # reuse the buffers: no allocation per recorded step
                    torch._foreach_copy_(self.snapshot, weights)
            self.has_snapshot = True
        else:
            self.has_snapshot = False

    def _update_sample(self) -> list[torch.Tensor]:
        """Strided views of every parameter: the elements update_ratio is measured on
        (cached while no parameter's storage has been replaced)."""
        key = tuple(p.data_ptr() for _, p in self.params)
        if self._views is None or self._views[0] != key:
            views = [
                p.detach().reshape(-1)[::stride]
                for (_, p), stride in zip(self.params, self.update_strides)
            ]
            if not all(p.is_contiguous() for _, p in self.params):
                return views  # reshape copied: a view of a copy cannot be kept
            self._views = (key, views)
        return self._views[1]

    def _norms(self, tensors: list[torch.Tensor | None], kind: str) -> torch.Tensor:
        """2-norms (float64 vector, NaN where a tensor is None): on the CPU one C pass over
        every tensor, accumulated in float64; else one or two foreach calls, float32 where
        the flush found that safe, float64 (finite for every finite float32 tensor, no
        overflow or underflow) else."""
        present = [t for t in tensors if t is not None]
        if not present:
            device = self.params[0][1].device
            return torch.full((len(tensors),), float("nan"), dtype=torch.float64, device=device)
        if all(native.usable(t) for t in present):
            self.info[f"{kind[-1]}_fast"] = [False] * len(tensors)
            norms = native.sum_squares(present).sqrt_()
            if len(present) == len(tensors):
                return norms
            out = torch.full((len(tensors),), float("nan"), dtype=torch.float64)
            out[[i for i, t in enumerate(tensors) if t is not None]] = norms
            return out
        return torch.stack(self._foreach_norms(tensors, kind)).to(torch.float64)

    def _foreach_norms(self, tensors: list[torch.Tensor | None], kind: str) -> list[torch.Tensor]:
        fast = [self.fast.get((kind, n), False) for n, _ in self.params]
        self.info[f"{kind[-1]}_fast"] = fast
        out: list[torch.Tensor | None] = [None] * len(tensors)
        for want, dtype in ((True, None), (False, torch.float64)):
            idx = [i for i, f in enumerate(fast) if f is want and tensors[i] is not None]
            if idx:
                got = torch._foreach_norm([tensors[i] for i in idx], 2, dtype=dtype)
                for i, t in zip(idx, got):
                    out[i] = t
        device = next(t.device for t in tensors if t is not None)
        nan = torch.full((), float("nan"), device=device)
        return [nan if t is None else t for t in out]

    def norms(self) -> tuple[torch.Tensor | None, list[list[torch.Tensor]]]:
        """[w_norm..., update_norm..., grad_norm..., w_before_norm...] and grad samples.

        The update is measured against the snapshot taken when the step was armed, so
        ``update_ratio`` is this optimizer step's ||w_after - w_before|| / ||w_before||, on
        the same systematic sample of each tensor (float64: small).
        """
        if not self.params:
            return None, []
        with torch.no_grad():
            weights = [p.detach() for _, p in self.params]
            self.info["numels"] = [w.numel() for w in weights]
            grads = [None if p.grad is None else p.grad.detach() for _, p in self.params]
            if all(native.usable(t) for t in weights) and all(
                g is None or native.usable(g) for g in grads
            ):
                return self._native_norms(weights, grads)
            w_norms = self._norms(weights, "param_w")
            device = weights[0].device
            if self.has_snapshot:
                views = self._update_sample()
                if self._native(views) and self._native(self.snapshot):
                    before, upd = native.update_norms(views, self.snapshot)
                else:
                    before = self._sample_norms(self.snapshot)
                    # in place: the snapshot becomes -dw (it is re-copied when the next
                    # recorded step is armed), so no temporary is allocated each step
                    torch._foreach_sub_(self.snapshot, views)
                    upd = self._sample_norms(self.snapshot)
            else:
                before = upd = torch.full(
                    (len(weights),), float("nan"), dtype=torch.float64, device=device
                )
            g_norms = self._norms(grads, "param_g")
            samples = []
            for g, stride in zip(grads, self.update_strides):
                if g is None:
                    samples.append([])
                    continue
                flat = g.reshape(-1)
                samples.append([(flat[::stride] if stride > 1 else flat).float()])
            norms = torch.cat([w_norms, upd, g_norms, before])
        return norms, samples

    def _native_norms(
        self, weights: list[torch.Tensor], grads: list[torch.Tensor | None]
    ) -> tuple[torch.Tensor, list[list[torch.Tensor]]]:
        """``norms()`` on the CPU: one C pass over every weight and gradient (float64 sums),
        which also takes the gradients' samples and refreshes the update snapshot."""
        k, lengths = len(weights), self.sample_lengths
        if self.snapshot is None:
            self.snapshot = [torch.zeros(m, dtype=torch.float32) for m in lengths]
            self.has_snapshot = False
        if self._grad_samples is None:
            self._grad_samples = list(torch.empty(sum(lengths), dtype=torch.float32).split(lengths))
        out = native.param_pass(
            weights, grads, self.update_strides, self.snapshot, self._grad_samples
        ).sqrt_()
        self._fresh = True
        self.info["w_fast"] = self.info["g_fast"] = [False] * k
        if not self.has_snapshot:
            out[1].fill_(float("nan"))
            out[3].fill_(float("nan"))
        missing = [j for j, g in enumerate(grads) if g is None]
        if missing:
            out[2, missing] = float("nan")
        samples = [[] if g is None else [s] for g, s in zip(grads, self._grad_samples)]
        return out.reshape(-1), samples

    @staticmethod
    def _native(tensors: list[torch.Tensor]) -> bool:
        """Whether these 1-D tensors can go through the C kernels (float32, CPU)."""
        return all(native.usable_1d(t) for t in tensors)

    @staticmethod
    def _sample_norms(tensors: list[torch.Tensor]) -> torch.Tensor:
        """float64 norms of the update samples (small, contiguous copies)."""
        if all(native.usable(t) for t in tensors):
            return native.sum_squares(tensors).sqrt_()
        return torch.stack(torch._foreach_norm(tensors, 2, dtype=torch.float64))

    def layer_rows(self, model: nn.Module) -> list[dict]:
        """The store's rows for the parameters (shape, trainable, module, tied names)."""
        tied = defaultdict(list)
        for pname, p in model.named_parameters(remove_duplicate=False):
            tied[id(p)].append(pname)
        rows = []
        for j, (pname, p) in enumerate(self.params):
            info = {
                "shape": list(p.shape),
                "numel": p.numel(),
                "trainable": p.requires_grad,
                "module": pname.rpartition(".")[0],
                "tied": tied[id(p)][1:],
            }
            rows.append(
                {
                    "name": pname,
                    "role": "param",
                    "type": pname.rpartition(".")[2],
                    "position": j,
                    "info": info,
                }
            )
        return rows
