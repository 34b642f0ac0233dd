"""Questions about a document's credits: who wrote it, who took a photo, where a picture comes from.

A curated document's front matter may carry its ``byline`` and photo ``captions`` (``bot/loaders.py``). They are
indexed after the body as chunks of their own that searches skip (``bot.chunking.is_credit``), so their words never
compete with the body's. A question whose words ask for a credit (``bot/data/credits.tsv``: a photographer word, or
an author, source or outlet word together with a word for the picture or the document) is shown those chunks of the
documents retrieved for it, and is answered by the one credit line it names: the caption whose subject holds every
word the question says about the picture, or the byline of the document whose title holds every word the question
says about the document. A photographer asked of a picture whose caption names only where it came from is not
answered (the caption is cited as related). Anything else goes to the ordinary engine unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from langchain_core.documents import Document

from bot.chunking import CREDIT_HEADINGS, CREDITS
from bot.citations import Claim
from bot.text import is_cjk, read_table

DATA = Path(__file__).parent / "data" / "credits.tsv"
_SECTION_HEAD = re.compile(r"\A\s*#{1,6}[^\n]*\n+")
_CAPTION_MARK = re.compile(r"\A[▲▼◀▶►◄△▽←→↑↓●■◆★☆]\s*")


@dataclass(frozen=True)
class Words:
    """The data file, read: ask, object and said words as one pattern per kind, and the credit forms of a caption."""

    asks: dict[str, re.Pattern[str]]
    objects: dict[str, re.Pattern[str]]
    said: dict[str, re.Pattern[str]]
    forms: dict[str, tuple[re.Pattern[str], ...]]
    every: re.Pattern[str]  # any ask or object word: what ``subject`` takes out of a question


def _pattern(entries: Sequence[str]) -> re.Pattern[str]:
    """Any of ``entries``: a Chinese one anywhere, an English one as whole words (longest first)."""
    alts = [re.escape(e) if is_cjk(e) else rf"\b{re.escape(e)}\b" for e in sorted(set(entries), key=len, reverse=True)]
    return re.compile("|".join(alts), re.I)


@cache
def words(path: Path = DATA) -> Words:
    groups: dict[str, dict[str, list[str]]] = {"ask": {}, "object": {}, "said": {}}
    forms: dict[str, list[re.Pattern[str]]] = {}
    for kind, entry, *_ in read_table(path):
        group, _, name = kind.partition(":")
        if group == "credit":
            forms.setdefault(name, []).append(re.compile(entry))
        else:
            groups[group].setdefault(name, []).append(entry.lower())
    pattern = {g: {k: _pattern(v) for k, v in kinds.items()} for g, kinds in groups.items()}
    every = _pattern([e for g in ("ask", "object") for es in groups[g].values() for e in es])
    return Words(pattern["ask"], pattern["object"], pattern["said"], {k: tuple(v) for k, v in forms.items()}, every)


def _plain(text: str) -> str:
    """NFKC and lower case, spaces kept (English words are matched whole)."""
    return unicodedata.normalize("NFKC", text).lower()


def asked(question: str) -> str | None:
    """The credit a question asks for — ``author``, ``photographer``, ``source`` or ``outlet`` — or None."""
    text = _plain(question)
    w = words()
    image, document = w.objects["image"].search(text), w.objects["document"].search(text)
    if w.asks["photographer"].search(text):
        return "photographer"
    if w.asks["source"].search(text) and (image or document):
        return "source" if image else "outlet"
    if w.asks["author"].search(text) and not image:
        return "author"
    if w.asks["outlet"].search(text) and document:
        return "outlet"
    return None


def subject(question: str) -> str:
    """The question without its credit words: what it says about the picture or the document."""
    return words().every.sub(" ", _plain(question))


@dataclass(frozen=True)
class Line:
    """A credit line: the chunk it is in, its text, what it is about and what kind of credit it gives."""

    n: int  # 1-based place in the retrieved list
    text: str
    about: str  # a caption's subject; a byline's document title
    credit: str  # "photographer", "source" or "byline"


def lines(chunks: Sequence[Document]) -> list[Line]:
    """The credit lines among ``chunks`` (those of part ``credits``)."""
    out = []
    for n, chunk in enumerate(chunks, 1):
        if chunk.metadata.get("part") != CREDITS:
            continue
        text = _SECTION_HEAD.sub("", chunk.page_content).strip()
        if not text:
            continue
        if chunk.metadata.get("heading") == CREDIT_HEADINGS["byline"]:
            out.append(Line(n, text, str(chunk.metadata.get("title", "")), "byline"))
            continue
        about, credit = _caption(_CAPTION_MARK.sub("", text))
        out.append(Line(n, text, about, credit))
    return out


def _caption(text: str) -> tuple[str, str]:
    """A caption's subject and the kind of its credit ("" when it names none)."""
    head, _, last = text.rstrip("。").rpartition("。")
    for kind, patterns in words().forms.items():
        if any(p.search(last) for p in patterns):
            return head or last, kind
    return text, ""


@dataclass
class Found:
    """The credit line that answers, or the related line when the credit asked is not given."""

    line: Line
    answers: bool


def find(question: str, chunks: Sequence[Document], *, covers: Callable[[str, str], float]) -> Found | None:
    """The credit line answering ``question`` among ``chunks``; None when the question asks for no credit or names
    no credit line. ``covers(subject, text)``: how well ``text`` holds what ``subject`` says (0: it does not)."""
    kind = asked(question)
    if kind is None:
        return None
    about = subject(question)
    wanted = {"author": ("byline",), "outlet": ("byline",), "photographer": ("photographer", "source"),
              "source": ("photographer", "source")}[kind]
    scored = [(covers(about, ln.about), ln) for ln in lines(chunks) if ln.credit in wanted]
    scored = [(score, ln) for score, ln in scored if score > 0]
    if not scored:
        return None
    best = max(score for score, _ in scored)
    named = [ln for score, ln in scored if score == best]
    if len(named) > 1 and kind == "photographer":
        named = [ln for ln in named if ln.credit == "photographer"]
    if len(named) != 1 and kind in ("photographer", "source"):
        return None  # the question does not say which picture
    line = named[0]
    return Found(line, answers=kind != "photographer" or line.credit == "photographer")


def tells(kind: str, sentence: str) -> bool:
    """Whether a body sentence can tell the credit asked: one that answers "who took the photo" says it was taken
    (``said:photographer`` in the data file); the other credits are not checked."""
    said = words().said.get(kind)
    return said is None or bool(said.search(_plain(sentence)))


def not_given_lead(*, cross: bool) -> str:
    if cross:
        return "The documents do not name the photographer. The caption says: "
    return "资料未写明拍摄者；图片说明是："


def claim(found: Found) -> Claim:
    return Claim(n=found.line.n, quote=found.line.text)
