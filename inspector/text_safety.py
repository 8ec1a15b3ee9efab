"""Escaping for names that come from users' models (layer names, class names, run metadata).

A layer can be called anything a Python string holds: ``![x](http://host/img)`` renders as
an image that the browser fetches when put into Markdown, ``<img onerror=...>`` becomes raw
HTML, and ``\\x1b[2K\\r`` erases and forges terminal lines. Every output escapes such text
with the helper for its medium: ``escape_markdown`` (Streamlit ``st.markdown``/``st.caption``
and the Markdown report), ``escape_terminal`` (``ls``, ``summary``, ``diagnose``, errors) and
``html.escape`` for HTML. Torch-free; no dependencies.
"""

from __future__ import annotations

import unicodedata

# Characters that reorder or hide text without being "control" characters (Trojan Source).
_INVISIBLE = {
    "\u061c",  # Arabic letter mark
    "\u200b",  # zero width space
    "\u200c",
    "\u200d",
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    *(chr(c) for c in range(0x202A, 0x202F)),  # LRE, RLE, PDF, LRO, RLO
    *(chr(c) for c in range(0x2066, 0x206A)),  # LRI, RLI, FSI, PDI
    "\ufeff",  # byte order mark / zero width no-break space
}

# CommonMark treats these as syntax; a backslash makes each literal (GFM and Streamlit).
# ``$`` is Streamlit's LaTeX, ``~`` strikethrough, ``|`` a table cell border. Brackets,
# underscores and parentheses are escaped only where they could act (see _needs_escape),
# so ordinary names (``output_shape``, ``[4, 10, 10]``) stay readable in the raw text.
_MARKDOWN_PUNCT = set("\\`*{}#!|~$")
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _unsafe(ch: str) -> bool:
    """A character that moves the cursor, changes colours, reorders or hides text."""
    if ch in _INVISIBLE:
        return True
    category = unicodedata.category(ch)
    return category == "Cc" or (category == "Cf" and ch != "\u00ad")


def _visible(ch: str) -> str:
    """How an unsafe character is shown instead: ``\\x1b``, ``\\u202e``."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_terminal(text: object, keep_newlines: bool = False) -> str:
    """``text`` with every control, format and bidi character shown as ``\\xNN``/``\\uNNNN``.

    ESC (colours, cursor moves), CR (overwrites a line), backspace, DEL, C1 codes and
    bidi overrides cannot act on the terminal. ``keep_newlines`` keeps ``\\n`` (a whole
    block of output); a table cell or a one-line message escapes it too, so a name cannot
    forge a row.
    """
    text = str(text)
    if text.isascii() and text.isprintable():
        return text  # the common case, no copy
    return "".join(
        _visible(ch) if _unsafe(ch) and not (keep_newlines and ch == "\n") else ch for ch in text
    )


def escape_markdown(text: object, inline: bool = True, cell: bool = False) -> str:
    """``text`` shown literally by a Markdown renderer (GitHub, Streamlit, CommonMark).

    Backslash-escapes Markdown syntax (links and images ``![x](url)``, emphasis, code,
    tables, Streamlit's ``$`` maths and ``:color[...]``), writes ``& < > "`` as entities so
    no raw HTML or autolink (``<http://...>``) survives, and shows control/bidi characters
    as ``\\xNN``. ``inline`` (a table cell, a caption) also turns newlines into spaces;
    ``cell`` (a GFM table cell, parsed as inline text only) skips the line-start escapes
    of lists and headings, so ``-`` and ``-0.5`` stay as they are.
    """
    out = []
    text = str(text)
    if inline:  # one line: a newline in a name must not end a table row or a caption
        text = text.replace("\r", " ").replace("\n", " ")
    for i, ch in enumerate(text):
        if ch == "\n":
            out.append(ch)
        elif _unsafe(ch):
            out.append("\\" + _visible(ch))  # the backslash of \x1b, escaped itself
        elif ch in _HTML_ENTITIES:
            out.append(_HTML_ENTITIES[ch])
        elif ch == " " and not cell and _indents_code(text, i, inline):
            out.append("&#32;")  # four leading spaces would start a code block
        elif ch in _MARKDOWN_PUNCT or _needs_escape(text, i, inline, cell):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _line_prefix(text: str, i: int, inline: bool) -> str:
    """What stands before ``text[i]`` on its line (the whole text is one line if inline)."""
    start = 0 if inline else text.rfind("\n", 0, i) + 1
    return text[start:i]


def _indents_code(text: str, i: int, inline: bool) -> bool:
    """A space at the start of a line that begins with four or more spaces."""
    prefix = _line_prefix(text, i, inline)
    return prefix == "" and text[i : i + 4] == "    "


def _needs_escape(text: str, i: int, inline: bool = True, cell: bool = False) -> bool:
    """Whether ``text[i]`` could start or end Markdown syntax where it stands.

    ``]`` closes a link or image only right before ``(``, ``[`` or ``:``; ``[`` opens
    Streamlit's ``:color[...]`` only after a letter or digit; ``_`` emphasises only at a
    word boundary (CommonMark ignores ``snake_case`` underscores); ``- + =`` and the
    ``.``/``)`` of ``1.`` make lists, rules and headings only at the start of a line.
    """
    ch = text[i]
    if ch in "-+=.)":
        if cell:
            return False
        prefix = _line_prefix(text, i, inline).lstrip(" ")
        if ch in "-+=":
            return prefix == ""
        return prefix.isdigit() and len(prefix) <= 9
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if ch == "]":
        return after in "([:"
    if ch == "[":
        return before.isalnum()
    if ch == "_":
        return not (before.isalnum() and after.isalnum())
    return False
