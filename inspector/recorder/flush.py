"""From one step's device-side summaries to store rows, with one device-to-host copy.

On the training thread, ``assemble`` computes the step's histograms in two batched passes
(value scale, log-magnitude scale), concatenates every number of the step into one float64
tensor and starts a single copy to the host (non-blocking into pinned memory on CUDA). The
``FlushWorker`` thread waits for that copy, turns it into named statistics and histogram
blobs and writes one transaction per step, off the training thread.
"""

from __future__ import annotations

import math
import queue
import threading
import traceback
from dataclasses import dataclass, field

import numpy as np
import torch

from inspector.probes.batchnorm_gap import gaps
from inspector.probes.bins import edges_for
from inspector.probes.summary_stats import (
    FAST_MAX,
    FAST_MIN_MEAN_SQUARE,
    STAT_SUFFIXES,
    combine_rows,
    fast_path_ok_batch,
    finalize_batch,
)
from inspector.probes.tensor_summary import ROW, TensorSummary, batch_histograms, join_parts
from inspector.store.stats import HISTOGRAMS, SUMMARY_PREFIX
from inspector.store.writer import RunWriter

# summary kind -> (statistic prefix, stored histogram kind, histogram scale), from the catalogue
SUMMARY_KINDS = {
    kind: (prefix, kind, HISTOGRAMS[kind].scale) for kind, prefix in SUMMARY_PREFIX.items()
}
SCALES = ("value", "log_abs")


@dataclass
class Piece:
    """One slice of the step's flat vector: what it is and where it came from."""

    layer: str
    kind: str  # SUMMARY_KINDS key, 'hist:<scale>', 'bn_gap', 'units', 'params', 'scalar'
    length: int
    extra: dict = field(default_factory=dict)


@dataclass
class StepPacket:
    step: int
    wall_time: float
    duration: float | None
    recorded: bool
    pieces: list[Piece]
    host: torch.Tensor | None  # float64 CPU tensor (maybe still being copied)
    ready: object | None  # torch.cuda.Event to wait on, or None
    host_stats: list[tuple[str, str, float]]  # (layer, stat, value) known on the host
    scalars: list[tuple[str, int, float]]  # host-side scalars (name, step, value)
    extra_steps: list[tuple[int, float, float | None]] = field(default_factory=list)


def assemble(
    summaries: dict[tuple[str, str], TensorSummary],
    saturating: set[str],
    tensors: list[tuple[Piece, torch.Tensor]],
    param_names: list[str],
    param_norms: torch.Tensor | None,
    param_samples: list[list[torch.Tensor]],
    has_update: bool,
    param_info: dict | None = None,
) -> tuple[list[Piece], list[torch.Tensor]]:
    """Pieces and device parts of one recorded step, histograms computed in batches."""
    pieces: list[Piece] = []
    parts: list[torch.Tensor] = []
    groups: dict[str, list[list[torch.Tensor]]] = {s: [] for s in SCALES}
    moment_parts: list[torch.Tensor] = []  # every summary's parts: joined once per step
    rows: dict[tuple[str, int], int] = {}  # a summary shared by two keys (conv out = BN in)
    for (layer, kind), summ in summaries.items():
        scale = SUMMARY_KINDS[kind][2]
        row = rows.setdefault((scale, id(summ)), len(groups[scale]))
        if row == len(groups[scale]):  # histogram each summary's samples once
            groups[scale].append(summ.samples)
        extra = {
            "n": summ.n,
            "counts": summ.counts,
            "n_sample": summ.n_sample,
            "row": row,
            "saturation": kind == "act" and layer in saturating,
        }
        pieces.append(Piece(layer, kind, summ.length, extra))
        moment_parts += summ.parts
    if moment_parts:
        parts.append(join_parts(moment_parts))
    if param_norms is not None:
        pieces.append(
            Piece(
                "",
                "params",
                param_norms.numel(),
                {"names": param_names, "has_update": has_update, "rows": [], **_info(param_info)},
            )
        )
        parts.append(param_norms)
        for samples in param_samples:
            pieces[-1].extra["rows"].append(len(groups["log_abs"]) if samples else -1)
            if samples:
                groups["log_abs"].append(samples)
    for scale in SCALES:
        if groups[scale]:
            hist = batch_histograms(groups[scale], scale)
            pieces.insert(0, Piece("", f"hist:{scale}", hist.numel(), {"rows": hist.shape[0]}))
            parts.insert(0, hist)
    for piece, tensor in tensors:
        pieces.append(piece)
        parts.append(tensor)
    return pieces, parts


def _info(param_info: dict | None) -> dict:
    """Per-parameter numels and which norms took the fast float32 path (default: none)."""
    info = dict(param_info or {})
    n = len(info.get("numels", []))
    info.setdefault("w_fast", [False] * n)
    info.setdefault("g_fast", [False] * n)
    return info


def pack(parts: list[torch.Tensor]) -> tuple[torch.Tensor, object]:
    """One device-to-host copy of all parts; returns (host tensor, event or None)."""
    if not parts:
        return torch.zeros(0, dtype=torch.float64), None
    # cat promotes every part (float32 moments, bool unit bits, float64 histograms) to the
    # widest dtype in one kernel: no per-part conversion copies.
    flat = torch.cat([p.reshape(-1) for p in parts])
    if flat.dtype != torch.float64:
        flat = flat.to(torch.float64)
    if flat.device.type == "cuda":
        host = torch.empty(flat.numel(), dtype=torch.float64, pin_memory=True)
        host.copy_(flat, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        return host, event
    return flat, None


def _hist_blob(row: np.ndarray) -> bytes:
    return np.rint(row[:-2]).astype(np.int32).tobytes()


def unpack(packet: StepPacket, layer_ids: dict[str, int], fast: dict | None = None):
    """Rows for RunWriter.write_step from a packet whose copy has completed.

    ``fast`` (the recorder's) learns, per (layer, kind) and per parameter, whether the next
    recorded step may take the fast, unscaled path (``probes.tensor_summary.fast_path_ok``).
    """
    fast = {} if fast is None else fast
    if packet.ready is not None:
        packet.ready.synchronize()
    vec = packet.host.numpy() if packet.host is not None else np.zeros(0)
    stats: list[tuple[str, int, float]] = []
    hists: list[tuple[str, int, bytes]] = []
    scalars = list(packet.scalars)
    matrices: dict[str, np.ndarray] = {}
    summaries: list[tuple[Piece, np.ndarray]] = []
    offset = 0
    for piece in packet.pieces:
        chunk = vec[offset : offset + piece.length]
        offset += piece.length
        kind = piece.kind
        if kind.startswith("hist:"):
            scale = kind.split(":", 1)[1]
            matrices[scale] = chunk.reshape(piece.extra["rows"], len(edges_for(scale)) + 3)
        elif kind == "scalar":
            scalars.append((piece.layer, piece.extra["step"], float(chunk[0])))
        elif kind in SUMMARY_KINDS:
            summaries.append((piece, chunk))
        elif kind == "params":
            stats += _param_rows(piece, chunk, matrices.get("log_abs"), layer_ids, hists, fast)
        elif kind == "bn_gap":  # [batch mean, invstd, running mean, running var] per channel
            lid = layer_ids[piece.layer]
            mean_gap, var_gap = gaps(chunk, piece.extra["eps"])
            stats += [("bn_mean_gap", lid, mean_gap), ("bn_var_gap", lid, var_gap)]
        elif kind == "units":
            active = chunk > 0.5
            lid = layer_ids[piece.layer]
            stats.append(("dead_frac", lid, float(1.0 - active.mean()) if len(active) else 0.0))
            hists.append(("unit_active", lid, np.packbits(active).tobytes()))
    if summaries:
        stats[:0] = _summary_rows(summaries, matrices, layer_ids, hists, fast)
    stats += [(stat, layer_ids[layer], value) for layer, stat, value in packet.host_stats]
    return stats, hists, scalars


_NAMES: dict[tuple[str, bool], tuple[str, ...]] = {}


def _stat_names(prefix: str, saturation: bool) -> tuple[str, ...]:
    key = (prefix, saturation)
    if key not in _NAMES:
        suffixes = STAT_SUFFIXES + (("sat_frac",) if saturation else ())
        _NAMES[key] = tuple(f"{prefix}_{s}" for s in suffixes)
    return _NAMES[key]


def _summary_rows(summaries, matrices, layer_ids, hists, fast) -> list:
    """Every summarised tensor's statistics (``probes.summary_stats``, all tensors of the
    step in one batch) and histogram blob; learns the fast-path flags."""
    counts = [c for piece, _ in summaries for c in piece.extra["counts"]]
    rows = np.concatenate([chunk for _, chunk in summaries]).reshape(-1, ROW)
    calls = [len(piece.extra["counts"]) for piece, _ in summaries]
    starts = np.cumsum([0, *calls[:-1]])
    hist_rows = []
    for piece, _ in summaries:
        scale = SUMMARY_KINDS[piece.kind][2]
        hist_rows.append(matrices[scale][piece.extra["row"]])
    nan_inf = np.array([(r[-2], r[-1]) for r in hist_rows]).reshape(-1, 2)
    moments = combine_rows(np.asarray(counts, dtype=np.float64), rows, starts)
    n_sample = np.array([piece.extra["n_sample"] for piece, _ in summaries])
    values = finalize_batch(moments, n_sample, nan_inf[:, 0], nan_inf[:, 1])
    table = np.column_stack([values[k] for k in (*STAT_SUFFIXES, "sat_frac")]).tolist()
    ok = fast_path_ok_batch(moments).tolist()
    out = []
    for i, (piece, _) in enumerate(summaries):
        prefix, hist_kind, _ = SUMMARY_KINDS[piece.kind]
        lid = layer_ids[piece.layer]
        fast[(piece.layer, piece.kind)] = ok[i]
        names = _stat_names(prefix, piece.extra["saturation"])
        out += zip(names, [lid] * len(names), table[i])
        hists.append((hist_kind, lid, _hist_blob(hist_rows[i])))
    return out


def _fast_norm_ok(norm: float, numel: int) -> bool:
    """A float32 norm far enough inside the safe range to stay on the fast path."""
    return math.isfinite(norm) and (
        norm == 0.0 or (norm < FAST_MAX and norm * norm / max(numel, 1) > FAST_MIN_MEAN_SQUARE)
    )


def _checked(norm: float, numel: int, was_fast: bool) -> float:
    """A fast (float32) norm that may have overflowed or underflowed is unknown, not wrong."""
    if not was_fast or norm == 0.0:
        return norm
    if not math.isfinite(norm) or norm * norm / max(numel, 1) < 1e-36:
        return float("nan")
    return norm


def _param_rows(piece: Piece, chunk: np.ndarray, matrix, layer_ids, hists, fast) -> list:
    """w_norm, update_ratio, g_norm, g_nan/g_inf and the gradient histogram per parameter."""
    names = piece.extra["names"]
    numels, w_fast, g_fast = piece.extra["numels"], piece.extra["w_fast"], piece.extra["g_fast"]
    w_norm, upd, g_norm, w_before = chunk.reshape(4, len(names))
    rows = []
    for i, name in enumerate(names):
        lid = layer_ids[name]
        fast[("param_w", name)] = _fast_norm_ok(float(w_norm[i]), numels[i])
        rows.append(("w_norm", lid, _checked(float(w_norm[i]), numels[i], w_fast[i])))
        if piece.extra["has_update"]:
            # ||w_after - w_before|| / ||w_before||, on the same systematic sample of the
            # tensor (all of it in exact mode), both norms in float64
            ok = np.isfinite(w_before[i]) and np.isfinite(upd[i]) and w_before[i] > 0
            ratio = upd[i] / w_before[i] if ok else float("nan")
            rows.append(("update_ratio", lid, float(ratio)))
        hist_row = piece.extra["rows"][i]
        if hist_row < 0 or matrix is None:
            continue
        row = matrix[hist_row]
        fast[("param_g", name)] = _fast_norm_ok(float(g_norm[i]), numels[i])
        norm = _checked(float(g_norm[i]), numels[i], g_fast[i])
        nan, inf = float(row[-2]), float(row[-1])
        if not g_fast[i]:
            # a float64 norm is finite for every finite tensor: non-finite = NaN/Inf present,
            # and the sample's counts say which (at least one)
            if np.isfinite(g_norm[i]):
                nan = inf = 0.0
            elif nan == 0 and inf == 0:
                nan = 1.0  # present (the exact norm says so) but missed by the sample
        # a fast norm that is non-finite may be overflow: only the sample's counts are known
        rows += [("g_norm", lid, norm), ("g_nan", lid, nan), ("g_inf", lid, inf)]
        hists.append(("param_grad", lid, _hist_blob(row)))
    return rows


class FlushWorker:
    """Background thread that writes step packets; errors surface on the next call."""

    def __init__(
        self,
        writer: RunWriter,
        layer_ids: dict[str, int],
        max_pending: int = 8,
        fast: dict | None = None,
    ):
        self.writer = writer
        self.layer_ids = layer_ids
        self.fast = {} if fast is None else fast
        self._queue: queue.Queue[StepPacket | None] = queue.Queue(maxsize=max_pending)
        self.error: str | None = None
        self._thread = threading.Thread(target=self._loop, name="inspector-flush", daemon=True)
        self._thread.start()

    def submit(self, packet: StepPacket) -> None:
        if self.error:
            raise RuntimeError(f"inspector: writing the run failed: {self.error}")
        # drain first: at most one packet is ever unwritten, so a kill loses at most the
        # step being written (steady-state cost is nil: the writer works during the step)
        self._queue.join()
        self._queue.put(packet)

    def _loop(self) -> None:
        while True:
            packet = self._queue.get()
            if packet is None:
                self._queue.task_done()
                return
            try:
                stats, hists, scalars = unpack(packet, self.layer_ids, self.fast)
                self.writer.write_step(
                    packet.step,
                    packet.wall_time,
                    packet.duration,
                    packet.recorded,
                    stats=stats,
                    hists=hists,
                    scalars=scalars,
                    extra_steps=packet.extra_steps,
                )
            except Exception:  # keep training alive; report at the next submit / close
                self.error = traceback.format_exc(limit=3)
            finally:
                self._queue.task_done()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
