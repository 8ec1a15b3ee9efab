"""The records contract: one constant per record (kind, key) and array prefix, and one typed
structure per format documented in docs/RECORDS.md.

Writers (the harness callbacks, the diagnosis engine) and readers (diagnosis, figures,
dashboard, reports, exports) import these instead of spelling ``"findings", "all"`` again, so
a rename is one edit and static tools follow it. Torch-free.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypedDict


class RecordKey(NamedTuple):
    """A record's (kind, key); ``reader.record(*KEY)`` / ``writer.put_record(*KEY, value)``."""

    kind: str
    key: str


ARCHITECTURE = RecordKey("architecture", "table")
RECEPTIVE_FIELD = RecordKey("receptive_field", "layers")
SALIENCY = RecordKey("saliency", "summary")
FINDINGS = RecordKey("findings", "all")
ERF_KIND = "erf"  # one record per layer: RecordKey(ERF_KIND, layer name), at init and at the end

# array name prefixes
KERNELS_PREFIX = "kernels/"  # kernels/<conv layer>
SALIENCY_PREFIX = "saliency/"  # saliency/images, saliency/masks, saliency/<method>
ERF_PREFIX = "erf/"  # erf/<layer>/<init|final>

# the records every export carries (name -> key)
EXPORTED = {"architecture": ARCHITECTURE, "receptive_field": RECEPTIVE_FIELD, "saliency": SALIENCY}


def erf_array(layer: str, phase: str) -> str:
    return f"{ERF_PREFIX}{layer}/{phase}"


def kernels_array(layer: str) -> str:
    return f"{KERNELS_PREFIX}{layer}"


def saliency_array(name: str) -> str:
    return f"{SALIENCY_PREFIX}{name}"


class ArchitectureRow(TypedDict, total=False):
    name: str
    type: str
    output_shape: list[int]
    params: int
    trainable: int
    frozen: int
    mult_adds: int | None
    shared: bool
    calls: int
    tied_with: list[str]


class ArchitectureTable(TypedDict, total=False):
    input_shape: list[int]
    rows: list[ArchitectureRow]
    totals: dict[str, Any]


# "global" is a Python keyword, hence the functional form
FieldRow = TypedDict(
    "FieldRow",
    {"name": str, "type": str, "rf": list, "jump": list, "start": list, "global": bool},
)


class ReceptiveFieldRecord(TypedDict, total=False):
    input_size: list[int]
    layers: list[FieldRow]
    method: str


class ErfRecord(TypedDict, total=False):
    layer: str
    phase: str  # "init" | "final"
    theoretical_rf: list[float]
    mass_share: float
    erf_radius: float
    erf_size: float
    center: list[float]
    input_size: list[int]


class SaliencySummary(TypedDict, total=False):
    methods: list[str]
    target_layer: str | None
    labels: list[int]
    predictions: list[int]
    class_names: list[str]
    trust: dict[str, dict[str, Any]]
    errors: dict[str, str]


class FindingRecord(TypedDict, total=False):
    rule: str
    severity: str  # info | warning | error
    title: str
    message: str
    layers: list[str]
    steps: list[int]
    evidence: dict[str, Any]
    fix: str
    view: str


class FindingsRecord(TypedDict):
    verdict: str
    findings: list[FindingRecord]
