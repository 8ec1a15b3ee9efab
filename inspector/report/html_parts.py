"""HTML fragments a report is made of: figures, tables, notes (all escaped, none external)."""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Plotly options for every chart: no logo; PNG download from the mode bar (works offline).
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png"},
}


@dataclass
class Section:
    """One titled block of the report; ``body`` holds ready HTML fragments."""

    id: str
    title: str
    body: list[str] = field(default_factory=list)

    def add(self, fragment: str | None) -> None:
        if fragment:
            self.body.append(fragment)


def esc(value: Any) -> str:
    return html.escape(fmt_value(value), quote=True)


def fmt_value(value: Any) -> str:
    """Numbers to a short readable form; lists and dicts compactly; None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={fmt_value(v)}" for k, v in value.items())
    return str(value)


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def paragraph(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def heading(text: str, level: int = 3) -> str:
    return f"<h{level}>{html.escape(text)}</h{level}>"


def figure_html(fig: Any) -> str:
    """A plotly figure as a div + script that uses the page's single embedded plotly.js."""
    body = fig.to_html(full_html=False, include_plotlyjs=False, config=PLOT_CONFIG)
    return f'<div class="figure">{body}</div>'


def draw(builder: Callable[..., Any], *args: Any, missing: str | None = None, **kw: Any) -> str:
    """Call a figure builder; its figure as HTML, or a one-line note when it has no data.

    A builder that raises costs one chart, not the report: the note names the error.
    """
    name = getattr(builder, "__name__", "figure")
    try:
        fig = builder(*args, **kw)
    except Exception as exc:  # noqa: BLE001 - a report must survive one broken chart
        log.warning("figure %s failed: %s", name, exc, exc_info=True)
        return note(f"could not draw {name}: {type(exc).__name__}: {exc}")
    if fig is None:
        return note(missing) if missing else ""
    return figure_html(fig)


def table_html(
    rows: Iterable[Mapping[str, Any]],
    columns: list[str] | None = None,
    cls: str = "table",
    scroll: bool = True,
) -> str:
    """A plain HTML table; columns default to the keys of the rows in first-seen order.

    ``scroll``: long tables scroll inside a box (off for tables that must read in full).
    """
    rows = list(rows)
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td{_cell_class(row.get(c))}>{esc(row.get(c))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap{" scroll" if scroll else ""}"><table class="{cls}">'
        f"<thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _cell_class(value: Any) -> str:
    if isinstance(value, str) and value.split(" ")[-1] in ("error", "warning", "info"):
        return f' class="sev-{value.split(" ")[-1]}"'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ' class="num"'
    return ""


def key_value_table(pairs: Iterable[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)
    return f'<div class="table-wrap"><table class="kv"><tbody>{body}</tbody></table></div>'
