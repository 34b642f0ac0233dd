"""Answers and sources as safe HTML and Markdown (no Streamlit here).

Document text is untrusted: a crawled page may contain ``<script>``,
``<img onerror=...>`` or Markdown links to ``javascript:``.  Every HTML
string built here is assembled from ``html.escape``d pieces plus our own
fixed tags, and it is shown with ``st.html`` (which never parses Markdown
and strips scripts again).  Text that must go through Streamlit's Markdown
(labels, captions) is passed through ``md_escape`` first.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.answer import MARKER, Answer, Citation

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&^])")
# In an exported file only what could form a link, an image, HTML or emphasis is escaped, so it stays readable.
_MD_EXPORT = re.compile(r"([\\`*_\[\]<>|])")

CSS = """
<style>
.pqa-answer{line-height:1.75;white-space:pre-wrap;word-break:break-word;}
.pqa-answer sup.pqa-ref{color:#1a5fb4;font-weight:600;margin:0 1px;}
.pqa-refusal{border-left:4px solid #c0a000;background:rgba(192,160,0,.08);padding:.5rem .8rem;border-radius:4px;
  line-height:1.7;white-space:pre-wrap;}
.pqa-refusal .pqa-hint{display:block;margin-top:.4rem;font-size:.88em;opacity:.8;}
.pqa-chunk{line-height:1.7;white-space:pre-wrap;word-break:break-word;font-size:.93em;}
.pqa-doc{line-height:1.8;white-space:pre-wrap;word-break:break-word;max-height:60vh;overflow-y:auto;
  padding:.6rem .8rem;border:1px solid rgba(128,128,128,.3);border-radius:6px;}
.pqa-doc .pqa-h{display:block;font-weight:700;margin:.6em 0 .2em;line-height:1.4;}
.pqa-doc .pqa-h1{font-size:1.35em;} .pqa-doc .pqa-h2{font-size:1.2em;} .pqa-doc .pqa-h3{font-size:1.08em;}
mark.pqa-hl{background:#ffe066;color:inherit;padding:0 1px;border-radius:2px;}
.pqa-meta{font-size:.85em;opacity:.75;}
</style>
"""


def md_escape(text: object) -> str:
    """Backslash-escape Markdown syntax so a label or caption shows ``text`` literally."""
    return _MD_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))


def md_escape_export(text: str) -> str:
    """Escape the Markdown that could turn document text into links, images or HTML in an exported file."""
    return _MD_EXPORT.sub(r"\\\1", str(text))


def local_time(stamp: str, timezone: str | None = None) -> str:
    """A stored UTC ISO time as the reader's local time, "2026-01-05 14:03" (the stamp itself if unreadable)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    try:
        zone = ZoneInfo(timezone) if timezone else None
    except (ValueError, ZoneInfoNotFoundError):
        zone = None  # an unknown zone name from the browser: the server's local time
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def plain_html(text: str) -> str:
    """Untrusted text as an HTML paragraph, line breaks kept."""
    return f'<div class="pqa-answer">{html.escape(text)}</div>'


def answer_html(text: str, *, streaming: bool = False) -> str:
    """An answer with its ``[n]`` markers shown as superscript references."""
    body = MARKER.sub(r'<sup class="pqa-ref">[\1]</sup>', html.escape(text))
    cursor = "▌" if streaming else ""
    return f'<div class="pqa-answer">{body}{cursor}</div>'


def refusal_html(text: str, hint: str) -> str:
    """A refusal: a distinct box, no sources, and a hint on what the corpus covers."""
    tail = f'<span class="pqa-hint">{html.escape(hint)}</span>' if hint else ""
    return f'<div class="pqa-refusal">{html.escape(text)}{tail}</div>'


def highlight_html(text: str, start: int, end: int, *, css_class: str = "pqa-chunk", anchor: str = "") -> str:
    """``text`` with ``text[start:end]`` marked; offsets outside the text mark nothing."""
    start, end = max(0, start), min(len(text), end)
    if start >= end:
        return f'<div class="{css_class}">{html.escape(text)}</div>'
    ident = f' id="{html.escape(anchor)}"' if anchor else ""
    return (f'<div class="{css_class}">{html.escape(text[:start])}<mark class="pqa-hl"{ident}>'
            f"{html.escape(text[start:end])}</mark>{html.escape(text[end:])}</div>")


def quote_span(citation: Citation) -> tuple[int, int]:
    """Where the quote sits inside its chunk (``-1, -1`` when it cannot be found)."""
    at = citation.text.find(citation.quote)
    return (at, at + len(citation.quote)) if at >= 0 and citation.quote else (-1, -1)


def chunk_html(citation: Citation) -> str:
    """The cited chunk with the quoted span highlighted."""
    start, end = quote_span(citation)
    if start < 0:
        return (f'<div class="pqa-chunk"><mark class="pqa-hl">{html.escape(citation.quote)}</mark></div>'
                f'<div class="pqa-chunk">{html.escape(citation.text)}</div>')
    return highlight_html(citation.text, start, end)


def document_html(text: str, start: int, end: int) -> str:
    """A whole document with the cited span highlighted in place (anchor ``#pqa-cited``).

    Markdown headings (``## 第一章``) are shown as headings, without their ``#`` marks; everything else stays
    escaped text, so a document can still not add links, images or scripts.
    """
    start, end = max(0, start), min(len(text), end)
    anchored = [False]

    def piece(a: int, b: int) -> str:
        lo, hi = max(a, start), min(b, end)
        if lo >= hi:
            return html.escape(text[a:b])
        ident = "" if anchored[0] else ' id="pqa-cited"'
        anchored[0] = True
        return (f'{html.escape(text[a:lo])}<mark class="pqa-hl"{ident}>{html.escape(text[lo:hi])}</mark>'
                f"{html.escape(text[hi:b])}")

    out, pos = [], 0
    for m in _HEADING.finditer(text):
        out.append(piece(pos, m.start()))
        out.append(f'<span class="pqa-h pqa-h{len(m.group(1))}">{piece(m.start(2), m.end(2))}</span>')
        pos = m.end() + (1 if text.startswith("\n", m.end()) else 0)  # the heading is a block: no blank line
    out.append(piece(pos, len(text)))
    return f'<div class="pqa-doc">{"".join(out)}</div>'


# Run once when the full-document dialog opens: bring the highlighted quote into view inside its scroll box.
# A fixed script (no document text in it); the dialog may still be drawing, so it retries for two seconds.
SCROLL_TO_QUOTE = """<script>
(function () {
  var tries = 0;
  var timer = setInterval(function () {
    var mark = document.getElementById("pqa-cited");
    if (mark) { mark.scrollIntoView({block: "center"}); }
    if (mark || ++tries > 40) { clearInterval(timer); }
  }, 50);
})();
</script>"""


def source_label(citation: Citation) -> str:
    """``[n] title · source · date`` (``[n] 《title》第N条 · …`` for an article), safe for a Markdown label."""
    parts = [citation.label() or citation.doc_id, citation.source, citation.published]
    return f"[{citation.n}] " + " · ".join(md_escape(p) for p in parts if p)


@dataclass(frozen=True)
class ExportTurn:
    """One question and its answer, as exported."""

    question: str
    answer: Answer


def conversation_markdown(turns: Sequence[ExportTurn], *, title: str, labels: dict[str, str]) -> str:
    """The conversation as a Markdown file, each answer followed by its numbered sources."""
    lines = [f"# {title}", ""]
    for turn in turns:
        answer = turn.answer
        lines += [f"## {labels['question']}: {md_escape_export(turn.question.replace(chr(10), ' '))}", ""]
        if answer.standalone_question and answer.standalone_question != turn.question:
            lines += [f"*{labels['searched']}: {md_escape_export(answer.standalone_question)}*", ""]
        lines += [md_escape_export(answer.answer), ""]
        if answer.citations:
            lines += [f"**{labels['sources']}**", ""]
            for c in answer.citations:
                meta = ", ".join(md_escape_export(x) for x in (c.source, c.published) if x)
                lines.append(f"{c.n}. {md_escape_export(c.label() or c.doc_id)}" + (f" ({meta})" if meta else ""))
                lines.append(f"    > {md_escape_export(c.quote.replace(chr(10), ' '))}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
