"""Reports: one self-contained HTML file per run, comparison or study, plus the raw numbers.

``build_html_report(runs, study=None, title=None)`` -> HTML text (the dashboard's download
button uses it); ``export_data(runs, study, fmt="json"|"csv")`` -> text;
``build_markdown(...)`` -> Markdown; ``write_report(...)`` -> the file written.
"""

from inspector.report.data_export import export_data
from inspector.report.html import build_html_report
from inspector.report.markdown import build_markdown
from inspector.report.naming import ReportFormat
from inspector.report.output import write_report

__all__ = ["ReportFormat", "build_html_report", "build_markdown", "export_data", "write_report"]
