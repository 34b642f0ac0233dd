"""Deterministic, Chinese-aware string matching for grading answers.

Scores must not move between runs or depend on a tokenizer: a grade is a
substring test after a fixed normalisation.  Generic RAG graders score two
identical Chinese strings as different when their tokenizer splits on spaces
only; here nothing is tokenized, so Chinese, English and numbers are treated
alike.  The normalisation is written here rather than borrowed from the
engine, so a bug in the engine's own citation check cannot hide itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

_WS = re.compile(r"\s+")
# A comma between digits followed by exactly three digits is a thousands separator: 1,000万 → 1000万.
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "‘": "'", "’": "'", "′": "'"})


def normalize(text: str) -> str:
    """NFKC (full width → half width), case folded, no whitespace, no thousands separators.

    Curly quotes become straight ones so a hand-typed ``"专精特新"`` matches
    the document's ``“专精特新”``.
    """
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = _WS.sub("", text).translate(_QUOTES)
    return _THOUSANDS.sub("", text)


def contains(haystack: str, needle: str) -> bool:
    """True when ``needle`` occurs in ``haystack`` after normalisation.

    A needle that starts or ends with a digit must not be glued to more
    digits: ``835`` is not found in ``1835家`` and ``10%`` not in ``110%``.
    """
    hay, pin = normalize(haystack), normalize(needle)
    if not pin:
        return False
    start = hay.find(pin)
    while start >= 0:
        if _digit_bounded(hay, start, start + len(pin), pin):
            return True
        start = hay.find(pin, start + 1)
    return False


def _digit_bounded(hay: str, start: int, end: int, pin: str) -> bool:
    if pin[0].isdigit() and start > 0:
        before = hay[start - 1]
        if before.isdigit() or (before == "." and start > 1 and hay[start - 2].isdigit()):
            return False
    if pin[-1].isdigit() and end < len(hay):
        after = hay[end]
        if after.isdigit() or (after == "." and end + 1 < len(hay) and hay[end + 1].isdigit()):
            return False
    return True


def contains_any(haystack: str, needles: Iterable[str]) -> bool:
    """True when at least one needle occurs."""
    return any(contains(haystack, n) for n in needles)


def groups_missing(haystack: str, groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """The answer groups with no member in ``haystack`` (empty list = correct, RGB's rule)."""
    return [list(g) for g in groups if not contains_any(haystack, g)]


def evidence_missing(texts: Sequence[str], evidence: Sequence[str]) -> list[str]:
    """Evidence strings that occur in none of ``texts`` (each string must sit inside one chunk)."""
    return [e for e in evidence if not any(contains(t, e) for t in texts)]


def from_passage(chunk_id: str, doc_id: str, passage_ids: Iterable[str]) -> bool:
    """True when a chunk is, or was cut from, one of the passages.

    Chunk ids are ``{doc_id}#{hash}``; a passage collection keeps each
    passage id as the document id.
    """
    return any(doc_id == pid or chunk_id == pid or chunk_id.startswith(pid + "#") for pid in passage_ids)
