"""Figure builders: pure functions from a run (RunReader) or a study to plotly figures.

The dashboard views and the HTML reports call the same builders. Each returns a
``plotly.graph_objects.Figure``, or None when the run lacks that data (the caller shows
a short note). No torch and no streamlit here.
"""

from inspector.figures.activations import (
    activation_fractions,
    activation_histogram_heatmap,
    activation_moments,
)
from inspector.figures.batchnorm import bn_gaps, bn_pre_post
from inspector.figures.compare import compare_runs
from inspector.figures.curves import loss_accuracy
from inspector.figures.gradients import gradient_heatmap, gradient_norms_by_layer
from inspector.figures.kernels import kernel_grid
from inspector.figures.receptive_field import erf_maps, receptive_field_growth
from inspector.figures.saliency import saliency_grid, saliency_trust
from inspector.figures.study import study_curves, study_heatmap
from inspector.figures.tables import architecture_rows, findings_rows, run_rows

__all__ = [
    "activation_fractions",
    "activation_histogram_heatmap",
    "activation_moments",
    "architecture_rows",
    "bn_gaps",
    "bn_pre_post",
    "compare_runs",
    "erf_maps",
    "findings_rows",
    "gradient_heatmap",
    "gradient_norms_by_layer",
    "kernel_grid",
    "loss_accuracy",
    "receptive_field_growth",
    "run_rows",
    "saliency_grid",
    "saliency_trust",
    "study_curves",
    "study_heatmap",
]
