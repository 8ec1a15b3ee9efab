"""The CPU summaries in one pass of C (``native_kernels.c``), compiled once per machine.

Eager PyTorch reads a CPU activation four times for its summary (``aminmax``, ``sum``,
``vector_norm``, the strided sample) and launches about eight small ops for it; the C
kernel reads it once, in float64 accumulators (the robust row, always exact), and is called
through ``ctypes`` for about 3 us. It is plain C without torch headers, so compiling takes
about half a second; the shared object is cached under ``~/.cache/inspector/native`` (or
``$INSPECTOR_CACHE``), keyed by the source, the flags and this CPU. OpenMP resolves to the
runtime torch has already loaded, so the kernel shares torch's thread pool.

Used for contiguous float32 CPU tensors only (CUDA tensors keep the eager path: no host
sync). ``INSPECTOR_NATIVE=0`` turns it off; without a C compiler, or if the build fails,
the eager kernels are used and the reason is kept in ``unavailable_reason``.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import math
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np
import torch

from inspector.probes.bins import LOG_MAGNITUDE_EDGES, SYMLOG_LAYOUT, edges_for

SOURCE = Path(__file__).with_name("native_kernels.c")
# tried in order: vectorised for this CPU (AVX-512 where it has it), then portable
FLAG_SETS = (
    ["-O3", "-march=native", "-mprefer-vector-width=512", "-fopenmp"],
    ["-O3", "-march=native", "-fopenmp"],
    ["-O3", "-fopenmp"],
    ["-O3"],
)
BUILD_TIMEOUT_S = 60

_PLAIN = (torch.Tensor, torch.nn.Parameter)  # not subclasses that reinterpret the data
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_tried = False
unavailable_reason: str | None = None


def _cpu_fingerprint() -> str:
    """What ``-march=native`` depends on: the machine and its CPU flags."""
    text = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features", "model name")):
                text += line
    except OSError:
        pass
    return text


def cache_dir() -> Path:
    root = os.environ.get("INSPECTOR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "inspector"
    )
    return Path(root) / "native"


def _compile(out: Path) -> None:
    """Build ``out`` with the first flag set the compiler accepts (atomic rename)."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("no C compiler found (cc, gcc or $CC)")
    out.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for flags in FLAG_SETS:
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
        os.close(fd)
        cmd = [cc, *flags, "-shared", "-fPIC", "-o", tmp, str(SOURCE), "-lm"]
        try:
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
            except (OSError, subprocess.SubprocessError) as exc:
                raise RuntimeError(f"{cc} could not build the kernels: {exc}") from None
            if done.returncode == 0:
                os.replace(tmp, out)
                return
            errors.append(done.stderr.strip().splitlines()[-1:] or ["failed"])
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError(f"{cc} could not build the kernels: {errors[-1][0]}")


def _load() -> ctypes.CDLL:
    source = SOURCE.read_bytes()
    key = hashlib.sha256(
        source + repr(FLAG_SETS).encode() + _cpu_fingerprint().encode()
    ).hexdigest()[:16]
    path = cache_dir() / f"kernels-{key}.so"
    if not path.exists():
        try:
            _compile(path)
        except PermissionError:  # read-only home: a private temporary cache
            path = Path(tempfile.gettempdir()) / f"inspector-native-{os.getuid()}" / path.name
            if not path.exists():
                _compile(path)
    # PyDLL keeps the GIL during a call: the kernels are short, and re-taking the GIL from
    # the writer thread after every call cost more than it let the writer run (resnet18,
    # every step: 1.20x instead of 1.23x, measured side by side)
    lib = ctypes.PyDLL(str(path))
    p, i64, f32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_float
    lib.inspector_summarize.argtypes = [p, i64, i64, p, ctypes.c_int, f32, f32, p]
    lib.inspector_summarize.restype = None
    lib.inspector_active_units.argtypes = [p, i64, i64, i64, p]
    lib.inspector_active_units.restype = None
    lib.inspector_histograms.argtypes = [p, p, p, p, i64, p, p, ctypes.c_int, i64, i64, p]
    lib.inspector_histograms.restype = None
    lib.inspector_gather.argtypes = [p, p, p, i64, p]
    lib.inspector_gather.restype = None
    lib.inspector_update_norms.argtypes = [p, p, p, i64, p, p, p]
    lib.inspector_update_norms.restype = None
    lib.inspector_param_pass.argtypes = [p, p, p, p, i64, p, p, p]
    lib.inspector_param_pass.restype = None
    return lib


def library() -> ctypes.CDLL | None:
    """The loaded kernels, building them on first use; None when unavailable or disabled."""
    global _lib, _tried, unavailable_reason
    if _tried:
        return _lib
    with _lock:
        if not _tried:
            if os.environ.get("INSPECTOR_NATIVE", "1") == "0":
                unavailable_reason = "turned off by INSPECTOR_NATIVE=0"
            else:
                try:
                    _lib = _load()
                except Exception as exc:  # no compiler, odd platform: eager kernels
                    unavailable_reason = f"{type(exc).__name__}: {exc}"[:300]
            _tried = True
    return _lib


def _plain_cpu_float32(t: torch.Tensor) -> bool:
    """A float32 CPU tensor the kernels may read (no subclass, not inside a dynamo trace,
    kernels loaded)."""
    return (
        type(t) in _PLAIN
        and t.device.type == "cpu"
        and t.dtype == torch.float32
        and not torch.compiler.is_compiling()
        and library() is not None
    )


def usable(t: torch.Tensor) -> bool:
    """Whether contiguous ``t`` can go through the C kernels."""
    return t.is_contiguous() and _plain_cpu_float32(t)


def usable_1d(t: torch.Tensor) -> bool:
    """Whether 1-D ``t`` (any stride) can go to the strided kernels (histograms, samples)."""
    return t.dim() == 1 and _plain_cpu_float32(t)


def summarize(
    flat: torch.Tensor, stride: int, bounds: tuple[float, float] | None, tolerance: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, sample) of a contiguous 1-D float32 CPU tensor; see ``native_kernels.c``.

    The sample is ``flat[::stride]`` copied; the row holds the robust moments and the
    sample's non-zero and saturation counts (``tensor_summary.MOMENT_FIELDS``).
    """
    lib = library()
    assert lib is not None
    n = flat.numel()
    sample = torch.empty(-(-n // stride), dtype=torch.float32)
    row = torch.empty(8, dtype=torch.float32)
    if bounds is None:
        has, mid, near = 0, 0.0, 0.0
    else:
        lo, hi = bounds
        has, mid, near = 1, (lo + hi) / 2, (hi - lo) / 2 - tolerance * (hi - lo)
    lib.inspector_summarize(
        flat.data_ptr(), n, stride, sample.data_ptr(), has, mid, near, row.data_ptr()
    )
    return row, sample


def sum_squares(tensors: list[torch.Tensor]) -> torch.Tensor:
    """float64 sum of squares of each contiguous float32 CPU tensor, in one call (the
    parameter pass without gradients, snapshot or samples)."""
    strides = [max(t.numel(), 1) for t in tensors]
    return param_pass(tensors, [None] * len(tensors), strides, None, None)[0]


def active_units(x: torch.Tensor, channel_dim: int) -> torch.Tensor:
    """Bool vector: unit ``channel_dim`` of contiguous float32 CPU ``x`` has a positive
    element (``unit_activity.active_units``; stops at the first one per unit)."""
    lib = library()
    assert lib is not None
    shape = x.shape
    channels = shape[channel_dim]
    outer = math.prod(shape[:channel_dim])
    inner = math.prod(shape[channel_dim + 1 :])
    out = torch.empty(channels, dtype=torch.bool)
    lib.inspector_active_units(x.data_ptr(), outer, channels, inner, out.data_ptr())
    return out


@functools.lru_cache(maxsize=2)
def bin_tables(scale: str) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(base, inner, symlog, center) for ``inspector_histograms``: per cell of 2**19 float32
    bit patterns, the number of edge magnitudes <= its lower end and the edge strictly
    inside it (+inf if none). Edges are rounded up to float32, so ``|x| >= edge`` compares
    exactly as against the float64 edges of ``probes.bins``."""
    if scale == "log_abs":
        mags, symlog, center = 10.0**LOG_MAGNITUDE_EDGES, 0, 0
    else:
        mags = edges_for("value")[SYMLOG_LAYOUT[2] + 1 :]  # the positive edges M0..M40
        symlog, center = 1, SYMLOG_LAYOUT[2] + 1
    thr = mags.astype(np.float32)
    thr = np.where(thr.astype(np.float64) < mags, np.nextafter(thr, np.float32(np.inf)), thr)
    cells = np.arange(4080, dtype=np.uint32)  # cells 4080.. are Inf / NaN patterns
    lo = (cells << np.uint32(19)).view(np.float32)
    hi = ((cells + np.uint32(1)) << np.uint32(19)).view(np.float32)
    base = np.searchsorted(thr, lo, side="right")
    nxt = thr[np.minimum(base, len(thr) - 1)]
    inside = (base < len(thr)) & (nxt < hi)
    assert np.all(np.searchsorted(thr, hi, side="left") - base <= 1)  # one edge per cell
    inner = np.full(4096, np.inf, dtype=np.float32)
    inner[:4080] = np.where(inside, nxt, np.float32(np.inf))
    base_full = np.zeros(4096, dtype=np.int32)
    base_full[:4080] = base
    return base_full, inner, symlog, center


def histograms(groups: list[list[torch.Tensor]], scale: str, n_bins: int) -> torch.Tensor:
    """(groups, n_bins + 2) float64: each group's fixed-edge histogram, NaN and Inf counts
    (``tensor_summary.batch_histograms``) in one call, without concatenating the samples."""
    lib = library()
    assert lib is not None
    base, inner, symlog, center = bin_tables(scale)
    flat = [s for group in groups for s in group]
    starts = _int64s([0, *np.cumsum([len(g) for g in groups]).tolist()])
    out = torch.empty((len(groups), n_bins + 2), dtype=torch.float64)
    lib.inspector_histograms(
        _pointers(flat),
        _int64s([s.numel() for s in flat]),
        _strides(flat),
        starts,
        len(groups),
        base.ctypes.data,
        inner.ctypes.data,
        symlog,
        center,
        n_bins,
        out.data_ptr(),
    )
    return out


def _pointers(tensors: list[torch.Tensor]):
    return (ctypes.c_void_p * len(tensors))(*[t.data_ptr() for t in tensors])


def _int64s(values: list[int]):
    return (ctypes.c_int64 * len(values))(*values)


def _strides(views: list[torch.Tensor]):
    """Element strides of 1-D views (a single element's stride is irrelevant: 1)."""
    return _int64s([v.stride(0) if v.numel() > 1 else 1 for v in views])


def gather(views: list[torch.Tensor], out: list[torch.Tensor]) -> None:
    """Copy each strided 1-D float32 view into its contiguous buffer in ``out``."""
    lib = library()
    assert lib is not None
    lib.inspector_gather(
        _pointers(views),
        _strides(views),
        _int64s([v.numel() for v in views]),
        len(views),
        _pointers(out),
    )


def update_norms(
    views: list[torch.Tensor], snapshot: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(||snapshot||, ||view - snapshot||) per tensor, float64, in one pass."""
    lib = library()
    assert lib is not None
    k = len(views)
    before = torch.empty(k, dtype=torch.float64)
    change = torch.empty(k, dtype=torch.float64)
    lib.inspector_update_norms(
        _pointers(views),
        _strides(views),
        _int64s([v.numel() for v in views]),
        k,
        _pointers(snapshot),
        before.data_ptr(),
        change.data_ptr(),
    )
    return before.sqrt_(), change.sqrt_()


def param_pass(
    weights: list[torch.Tensor],
    grads: list[torch.Tensor | None],
    strides: list[int],
    snapshot: list[torch.Tensor] | None,
    grad_samples: list[torch.Tensor] | None,
) -> torch.Tensor:
    """(4, k) float64 [sum w^2, sum (w - snap)^2, sum g^2, sum snap^2] in one read of every
    contiguous float32 weight and gradient; see ``inspector_param_pass``. The snapshot (when
    given) is replaced by the weights' samples, and ``grad_samples[j]`` filled with
    ``grads[j][::strides[j]]``; a missing gradient's sum is 0 and its sample untouched."""
    lib = library()
    assert lib is not None
    k = len(weights)
    out = torch.empty((4, k), dtype=torch.float64)
    null = ctypes.c_void_p(0)
    lib.inspector_param_pass(
        _pointers(weights),
        (ctypes.c_void_p * k)(*[0 if g is None else g.data_ptr() for g in grads]),
        _int64s([w.numel() for w in weights]),
        _int64s(strides),
        k,
        null if snapshot is None else _pointers(snapshot),
        null if grad_samples is None else _pointers(grad_samples),
        out.data_ptr(),
    )
    return out
