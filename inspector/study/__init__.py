"""Studies: grids of ordinary recorded runs tied together by ``_studies/<id>/study.json``.

Readers (dashboard, reports) need only ``list_studies`` / ``load_study`` (no torch import);
``inspector.study.runner.run_study`` runs or resumes a study.
"""

from inspector.study.grid import StudyKind
from inspector.study.store import Study, list_studies, load_study

__all__ = ["Study", "StudyKind", "list_studies", "load_study"]
