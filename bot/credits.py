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

from bot.chunking import CREDITS
from bot.citations import Claim
from bot.text import is_cjk

DATA = Path(__file__).parent / "data" / "credits.tsv"
_SECTION_HEAD = re.compile(r"\A\s*#{1,6}[^\n]*\n+")
_CAPTION_MARK = re.compile(r"\A[▲▼◀▶►◄△▽←→↑↓●■◆★☆]\s*")


@dataclass(frozen=True)
class Words:
    """The data file, read: ask and object words by kind, and the credit forms of a caption."""

    asks: dict[str, tuple[str, ...]]
    objects: dict[str, tuple[str, ...]]
    forms: dict[str, tuple[re.Pattern[str], ...]]
    said: dict[str, tuple[str, ...]]


@cache
def words(path: Path = DATA) -> Words:
    asks: dict[str, list[str]] = {}
    objects: dict[str, list[str]] = {}
    said: dict[str, list[str]] = {}
    forms: dict[str, list[re.Pattern[str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, entry = line.split("\t")[:2]
        group, _, name = kind.partition(":")
        if group == "credit":
            forms.setdefault(name, []).append(re.compile(entry))
        else:
            {"ask": asks, "object": objects, "said": said}[group].setdefault(name, []).append(entry.lower())
    return Words({k: tuple(v) for k, v in asks.items()}, {k: tuple(v) for k, v in objects.items()},
                 {k: tuple(v) for k, v in forms.items()}, {k: tuple(v) for k, v in said.items()})


def _plain(text: str) -> str:
    """NFKC and lower case, spaces kept (English words are matched whole)."""
    return unicodedata.normalize("NFKC", text).lower()


def _has(text: str, entries: Sequence[str]) -> bool:
    for entry in entries:
        if is_cjk(entry):
            if entry in text:
                return True
        elif re.search(rf"\b{re.escape(entry)}\b", text):
            return True
    return False


def asked(question: str) -> str | None:
    """The credit a question asks for — ``author``, ``photographer``, ``source`` or ``outlet`` — or None."""
    text = _plain(question)
    w = words()
    image, document = _has(text, w.objects["image"]), _has(text, w.objects["document"])
    if _has(text, w.asks["photographer"]):
        return "photographer"
    if _has(text, w.asks["source"]) and (image or document):
        return "source" if image else "outlet"
    if _has(text, w.asks["author"]) and not image:
        return "author"
    if _has(text, w.asks["outlet"]) and document:
        return "outlet"
    return None


def subject(question: str) -> str:
    """The question without its credit words: what it says about the picture or the document."""
    w = words()
    text = _plain(question)
    entries = sorted({e for group in (w.asks, w.objects) for es in group.values() for e in es}, key=len, reverse=True)
    for entry in entries:
        text = re.sub(re.escape(entry) if is_cjk(entry) else rf"(?i)\b{re.escape(entry)}\b", " ", text)
    return text


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
        if chunk.metadata.get("heading") == "署名":
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
    return said is None or _has(_plain(sentence), said)


def not_given_lead(*, cross: bool) -> str:
    if cross:
        return "The documents do not name the photographer. The caption says: "
    return "资料未写明拍摄者；图片说明是："


def claim(found: Found) -> Claim:
    return Claim(n=found.line.n, quote=found.line.text)
