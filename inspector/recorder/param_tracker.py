"""The model's parameters as the recorder follows them: norms, gradients and update ratio.

``update_ratio`` needs the weights from before the optimizer step; they are snapshotted, on
a fixed systematic sample of each tensor, when a recorded step is armed. No host sync here.
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch import nn

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
        # ('param_w'|'param_g', name) -> fast float32 norm is safe; shared with the flush
        # worker, which learns it from the last recorded step (absent: robust path)
        self.fast = fast
        self.info: dict = {}  # numels and which norms took the fast path, for the flush
        self.snapshot: list[torch.Tensor] | None = None
        self.has_snapshot = False

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.params]

    def arm(self, recorded: bool) -> None:
        """Snapshot the weights' samples before a recorded step (buffers reused), else drop."""
        if recorded and self.params:
            weights = self._update_sample()
            with torch.no_grad():
                if self.snapshot is None:
                    self.snapshot = [w.clone() for w in weights]
                else:  # reuse the buffers: no allocation per recorded step
                    torch._foreach_copy_(self.snapshot, weights)
            self.has_snapshot = True
        else:
            self.has_snapshot = False

    def _update_sample(self) -> list[torch.Tensor]:
        """Strided views of every parameter: the elements update_ratio is measured on."""
        return [
            p.detach().reshape(-1)[::stride]
            for (_, p), stride in zip(self.params, self.update_strides)
        ]

    def _norms(self, tensors: list[torch.Tensor], kind: str) -> list[torch.Tensor]:
        """2-norms in one or two foreach calls: float32 where the flush found that safe,
        float64 (finite for every finite float32 tensor, no overflow or underflow) else."""
        fast = [self.fast.get((kind, n), False) for n, _ in self.params]
        self.info[f"{kind[-1]}_fast"] = fast
        out: list[torch.Tensor | None] = [None] * len(tensors)
        for want, dtype in ((True, None), (False, torch.float64)):
            idx = [i for i, f in enumerate(fast) if f is want and tensors[i] is not None]
            if idx:
                got = torch._foreach_norm([tensors[i] for i in idx], 2, dtype=dtype)
                for i, t in zip(idx, got):
                    out[i] = t
        return out  # type: ignore[return-value]

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
            w_norms = self._norms(weights, "param_w")
            device = weights[0].device
            if self.has_snapshot:
                before = torch._foreach_norm(self.snapshot, 2, dtype=torch.float64)
                # in place: the snapshot becomes -dw (it is re-copied when the next recorded
                # step is armed), so no temporary is allocated each step
                torch._foreach_sub_(self.snapshot, self._update_sample())
                upd = torch._foreach_norm(self.snapshot, 2, dtype=torch.float64)
            else:
                nan = torch.full((), float("nan"), device=device)
                before = upd = [nan] * len(weights)
            grads = [p.grad for _, p in self.params]
            g_norms = self._norms([None if g is None else g.detach() for g in grads], "param_g")
            samples = []
            for i, g in enumerate(grads):
                if g is None:
                    g_norms[i] = torch.full((), float("nan"), device=device)
                    samples.append([])
                    continue
                flat = g.detach().reshape(-1)
                stride = sample_stride(flat.numel(), flat.numel(), self.max_sample)
                samples.append([(flat[::stride] if stride > 1 else flat).float()])
            # one promoting stack (float32 fast norms, float64 robust ones)
            norms = torch.stack([*w_norms, *upd, *g_norms, *before]).to(torch.float64)
        return norms, samples

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
