"""The instruments, as a stable top-level entry point.

The implementation lives in ``inspector.probes`` (so a user's own ``probes.py`` can never
shadow what Inspector imports); this package re-exports the probes users call directly.
"""

from inspector.probes.effective_rf import effective_rf
from inspector.probes.param_summary import param_summary
from inspector.probes.receptive_field import receptive_field
from inspector.probes.saliency import compute_saliency
from inspector.probes.tensor_summary import SummarySpec, TensorSummary

__all__ = [
    "SummarySpec",
    "TensorSummary",
    "compute_saliency",
    "effective_rf",
    "param_summary",
    "receptive_field",
]
