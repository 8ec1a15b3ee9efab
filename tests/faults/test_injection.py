"""Issue 13.10: names from a user's model are shown literally in every output.

A model whose layer names carry Markdown and HTML payloads (an image that a browser would
fetch, ``<img onerror>``, a ``javascript:`` link) and whose class name carries terminal
escape sequences (clear screen, colour, carriage return, a bidi override) is recorded for
real; then ``inspector ls``, ``summary`` and ``diagnose`` print no control character, the
Markdown report and the dashboard's findings render (CommonMark, as GitHub and Streamlit do)
without an image, a link or raw HTML.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from inspector.cli import main
from inspector.text_safety import escape_markdown, escape_terminal

pytestmark = pytest.mark.usefixtures("one_torch_thread")

IMG = "![x](http://evil-host:9/img)"
HTML = "<img src=x onerror=alert(1)>"
TTY = "\x1b[2K\rFORGED\u202e"  # erase the line, rewrite it, reverse what follows
JS = "[click](javascript:alert(1))"
CLASS = "Net\x1b[2J\x1b[31mFORGED\rrow\u202e"
TERMINAL_CONTROLS = ("\x1b", "\r", "\u202e", "\x9b")

MODEL_FILE = textwrap.dedent(
    f"""
    from collections import OrderedDict

    import torch
    from torch import nn

    IMG, HTML, JS, CLASS, TTY = {IMG!r}, {HTML!r}, {JS!r}, {CLASS!r}, {TTY!r}


    def _init(self):
        nn.Module.__init__(self)
        self.body = nn.Sequential(
            OrderedDict(
                [
                    ("flat", nn.Flatten()),
                    (IMG, nn.Linear(784, 32)),
                    (HTML + TTY, nn.ReLU()),
                    (JS, nn.Linear(32, 6)),
                ]
            )
        )
        with torch.no_grad():  # every unit of the ReLU dead: a finding that names it
            self.body[1].bias.fill_(-100.0)


    Net = type(CLASS, (nn.Module,), {{"__init__": _init, "forward": lambda s, x: s.body(x)}})


    def build():
        return Net()
    """
)


def md_html(text: str) -> str:
    """HTML from CommonMark with GFM tables, raw HTML allowed (as GitHub passes it on)."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def assert_inert_html(html: str) -> None:
    assert "<img" not in html, html
    assert 'href="javascript' not in html and 'href="http://evil' not in html, html
    assert "onerror" not in html or "&lt;img src=x onerror" in html, html


@pytest.fixture(scope="module")
def evil(tmp_path_factory) -> tuple[Path, Path]:
    """(runs root, model file) with one finished run of the payload model."""
    import torch

    from inspector.model_loader import load_model
    from inspector.train import TrainConfig, train

    folder = tmp_path_factory.mktemp("injection")
    model_file = folder / "evil_model.py"
    model_file.write_text(MODEL_FILE)
    torch.manual_seed(0)
    root = folder / "runs"
    result = train(
        load_model(f"{model_file}:build"),
        "shapes",
        TrainConfig(steps=4, batch_size=16, every=1),
        run="evil",
        root=root,
        quiet=True,
        data_options={"n_train": 64, "n_test": 32},
    )
    assert result.status == "finished"
    return root, model_file


def test_ls_prints_no_control_characters(evil, capsys):
    root, _ = evil
    assert main(["ls", "--runs-root", str(root)]) == 0
    out = capsys.readouterr().out
    assert not any(c in out for c in TERMINAL_CONTROLS), repr(out)
    lines = out.splitlines()
    assert len(lines) == 2, lines  # header + the one run: no forged row
    assert "Net\\x1b[2J\\x1b[31mFORGED\\x0drow\\u202e" in lines[1]  # shown, not obeyed


def test_summary_and_diagnose_print_no_control_characters(evil, capsys):
    root, model_file = evil
    assert main(["summary", f"{model_file}:build", "--input-shape", "1,28,28"]) == 0
    out = capsys.readouterr().out
    assert "body.![x](http://evil-host:9/img)" in out  # terminals do not render Markdown
    assert main(["diagnose", "--run", "evil", "--runs-root", str(root)]) == 0
    out += capsys.readouterr().out
    assert not any(c in out for c in TERMINAL_CONTROLS), repr(out)
    assert "dead" in out.lower()


def test_markdown_report_renders_names_literally(evil, tmp_path, capsys):
    root, _ = evil
    output = tmp_path / "report.md"
    argv = ["report", "evil", "--runs-root", str(root), "--format", "md", "-o", str(output)]
    assert main(argv) == 0
    text = output.read_text()
    html = md_html(text)
    assert_inert_html(html)
    # the names are still there, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "![x](http://evil-host:9/img)" in html and "[click](javascript:alert(1))" in html
    assert "\x1b" not in text and "\u202e" not in text


def test_dashboard_findings_render_names_literally(evil, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from inspector.dashboard.state import RUN_KEY

    root, _ = evil
    app = Path(__file__).resolve().parents[2] / "streamlit_app.py"
    monkeypatch.setenv("INSPECTOR_RUNS_ROOT", str(root))
    at = AppTest.from_file(str(app), default_timeout=120)
    at.session_state[RUN_KEY] = "evil"
    at.run()
    at.switch_page("inspector/dashboard/pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    joined = "\n\n".join(shown)
    assert "Dead ReLU" in joined  # the findings are there
    for text in shown:
        assert_inert_html(md_html(text))
    assert "&lt;img src=x onerror=alert(1)&gt;" in md_html(joined)


@pytest.mark.parametrize(
    "payload",
    [IMG, HTML, JS, "<http://evil-host/auto>", "$x^2$", ":red[forged]", "a|b\nc", "**b**"],
)
def test_escape_markdown_leaves_only_text(payload):
    html = md_html(escape_markdown(payload))
    assert_inert_html(html)
    for tag in ("<a ", "<strong>", "<em>", "<code>", "<td>"):
        assert tag not in html, (payload, html)


def test_escape_terminal_shows_every_control_character():
    text = "a\x1b[31mb\rc\x08d\x7fe\x9bf\u202eg\u2066h\u200bi\nj\tk"
    out = escape_terminal(text)
    assert out == ("a\\x1b[31mb\\x0dc\\x08d\\x7fe\\x9bf\\u202eg\\u2066h\\u200bi\\x0aj\\x09k")
    assert escape_terminal("x\ny", keep_newlines=True) == "x\ny"
    assert escape_terminal("plain layer.name_0") == "plain layer.name_0"
    assert escape_terminal("café 中文") == "café 中文"  # printable Unicode is kept


def test_escape_markdown_on_random_syntax_soup():
    """Seeded strings of Markdown's special characters: nothing but text and line breaks
    comes out of the renderer, in a cell (inline) or as a block of text."""
    import random

    rng = random.Random(0)
    alphabet = "![]()<>_*`:ab/|$~#&\\ .-h1=+\n"
    structure = ("<a ", "<img", "<em>", "<strong>", "<code>", "<h", "<ul", "<ol", "<block")
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
        for inline in (True, False):
            html = md_html(escape_markdown(text, inline=inline))
            assert not any(tag in html for tag in (*structure, "<table", "<hr", "<pre")), (
                text,
                html,
            )
        table = md_html(f"| a | b |\n|---|---|\n| {escape_markdown(text, cell=True)} | x |\n")
        assert table.count("<td>") == 2, (text, table)  # no forged cell or row
        assert not any(tag in table for tag in structure), (text, table)


def test_escape_markdown_keeps_ordinary_names_readable():
    for name in ("output_shape", "[4, 10, 10]", "features.0.conv1", "vanishing_gradients"):
        assert escape_markdown(name) == name
