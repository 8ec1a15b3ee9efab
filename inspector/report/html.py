"""One self-contained HTML page: plotly.js inline once, every chart and image inside.

The page references nothing outside itself (no CDN, fonts or links), so it opens offline and
survives being mailed or attached. Charts are the dashboard's figure builders, so a chart
looks the same in both places.
"""

from __future__ import annotations

import functools
import html
import os
import time
from typing import Any

from inspector.report.html_parts import Section, note
from inspector.report.inputs import RunRef, open_inputs, run_label

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2933;
 background:#fafbfc;line-height:1.45}
header{background:#243b53;color:#fff;padding:1rem 2rem}
header h1{margin:0;font-size:1.5rem}header p{margin:.3rem 0 0;opacity:.8}
nav{padding:.5rem 2rem;background:#eef2f6;font-size:.9rem}nav a{margin-right:.9rem;color:#243b53}
main{padding:0 2rem 2rem}
section{background:#fff;border:1px solid #d9e2ec;border-radius:6px;margin:1.2rem 0;padding:.4rem 1.2rem 1rem}
h2{font-size:1.2rem;border-bottom:1px solid #d9e2ec;padding-bottom:.3rem}
h3{font-size:1rem;margin:1rem 0 .3rem}
.note{color:#627d98;font-style:italic;margin:.4rem 0}
.verdict{font-weight:600}
.table-wrap{overflow-x:auto}.table-wrap.scroll{max-height:40rem;overflow-y:auto}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d9e2ec;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f0f4f8;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.sev-error{color:#b42318;font-weight:600}td.sev-warning{color:#b54708;font-weight:600}
td.sev-info{color:#175cd3}
table.kv th{background:#f0f4f8;width:14rem}
.figure{margin:.5rem 0}
.run-title{font-size:1.35rem;margin-top:2rem;color:#243b53}
footer{color:#829ab1;font-size:.8rem;padding:1rem 2rem}
"""


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    # '</script' inside the bundle would end the tag early; escape it the standard way.
    return get_plotlyjs().replace("</script", "<\\/script")


def render_page(
    title: str, subtitle: str, blocks: list[Section | str], nav: list[tuple[str, str]] | None = None
) -> str:
    """The whole document; ``blocks`` are sections or raw HTML (e.g. a run heading).

    ``nav``: (anchor, label) links at the top; default one per section.
    """
    if nav is None:
        nav = [(b.id, b.title) for b in blocks if isinstance(b, Section)]
    nav_html = "".join(f'<a href="#{html.escape(a)}">{html.escape(t)}</a>' for a, t in nav)
    parts = []
    for block in blocks:
        if isinstance(block, str):
            parts.append(block)
            continue
        body = "\n".join(block.body) or note("Nothing recorded for this section.")
        parts.append(
            f'<section id="{html.escape(block.id)}"><h2>{html.escape(block.title)}'
            f"</h2>\n{body}\n</section>"
        )
    from inspector import __version__

    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style>"
        f'<script type="text/javascript" id="plotly-js">{_plotly_js()}</script>'
        f"</head><body><header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>"
        f"</header><nav>{nav_html}</nav><main>\n" + "\n".join(parts) + "\n</main>"
        f"<footer>Inspector {html.escape(__version__)} report, generated "
        f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}. Self-contained: opens offline.</footer>"
        "</body></html>\n"
    )


def build_html_report(
    runs: list[RunRef] | RunRef | None = None,
    study: Any | None = None,
    title: str | None = None,
    root: str | os.PathLike | None = None,
) -> str:
    """The report of one run, a comparison of several, or a study, as one HTML string.

    ``runs``: run ids (under ``root``), run folders or open ``RunReader``s; ``study``: a Study
    or its id/path. With a study and no runs, the study's own runs are compared.
    """
    from inspector.report.comparison import comparison, study_section
    from inspector.report.sections import run_sections

    with open_inputs(runs, study, root) as inputs:
        readers = inputs.readers
        labels = [run_label(r) for r in readers]
        blocks: list[Section | str] = []
        nav: list[tuple[str, str]] | None = None
        if inputs.study is not None:
            blocks.append(study_section(inputs.study, readers, inputs.missing))
        if len(readers) > 1:
            blocks.append(comparison(readers))
            nav = [(b.id, b.title) for b in blocks if isinstance(b, Section)]
        if inputs.study is None:  # a study's cells are compared, not each shown in full
            for reader in readers:
                if nav is not None:  # several runs: each gets a heading and a nav entry
                    anchor = html.escape(f"run-{reader.id}")
                    blocks.append(
                        f'<h2 class="run-title" id="{anchor}">Run {html.escape(reader.id)}</h2>'
                    )
                    nav.append((f"run-{reader.id}", f"Run {reader.id}"))
                prefix = f"{reader.id}-" if len(readers) > 1 else ""
                blocks.extend(run_sections(reader, prefix=prefix))
        if title is None:
            title = (
                f"Study {inputs.study.id}"
                if inputs.study is not None
                else "Inspector report: " + ", ".join(labels)
            )
        subtitle = (f"{len(readers)} run(s): " + ", ".join(labels)) if labels else ""
        return render_page(title, subtitle, blocks, nav)
