"""Explicit checks that the quoted sentence meets every constraint the question sets.

A sentence can share most of a question's words and still answer another
question: 国家标准 for a question about 地方标准, 2023年 for one about 2022年,
10亿元 for one about 20亿元, and so on.  Each check here is
generic — it looks at the question's structure, never at particular words —
and its precision was measured on CMRC training questions (``docs/answerability.md``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.text import normalize

if TYPE_CHECKING:
    from bot.extractive import Ranking

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*年)?(?!\d)")
_ANY_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年")
# a number with its magnitude (万/亿) and unit: 20亿元, 3.5万, 60%, 11月
_QUANTITY = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万|亿|千|百)?\s*(元|%|月|个|家|项|名|次|人|岁|米|倍|台|座)?")
# the kinds of swapped word (``bot.answerability.swaps``) that fail the question: not verbal nouns (paraphrase)
SUBJECT_KINDS = ("place", "org", "person", "name", "latin", "time", "number", "noun")
_TITLE = re.compile(r"《([^》]+)》")
_MODIFIER_FLAGS = ("n", "a", "b", "j", "s", "f")  # nouns (incl. places, names), adjectives, 区别词 (省级/国际)


@dataclass(frozen=True)
class Unmet:
    """One constraint of the question that the quoted sentence does not meet."""

    kind: str  # year | quantity | modifier | title | subject
    text: str  # as the question says it, e.g. 地方标准, 2022年, 20亿元


def unmet(r: Ranking) -> list[Unmet]:
    """The question's constraints that ``r.best`` (with its heading and previous sentence) fails."""
    sent = normalize(r.best.text)
    near = sent + " " + r.best.context + " " + r.best.previous
    chunk = normalize(r.chunks[r.best.chunk_n - 1].page_content) if r.chunks else sent
    question = unicodedata.normalize("NFKC", r.question).lower()
    out: list[Unmet] = []
    years = set()
    for year in _YEAR.findall(question):
        years.add(year)
        if year in sent:
            continue
        # a sentence dated another year answers about that year; an undated one may take
        # its year from the chunk around it
        if _ANY_YEAR.search(sent) or year not in chunk:
            out.append(Unmet("year", f"{year}年"))
    for num, mag, unit in _QUANTITY.findall(question):
        if num in years or (not mag and not unit):
            continue
        said = f"{num}{mag}{unit if unit == '%' or unit == '月' else ''}"
        if said not in near:
            out.append(Unmet("quantity", f"{num}{mag}{unit}"))
    # a work the question names by its 《title》 that the sentence, its heading and previous sentence do not name: the
    # sentence is about another work (CMRC: never on a right answer, on 4 % of the near-miss variants)
    out.extend(Unmet("title", f"《{t}》") for t in dict.fromkeys(_TITLE.findall(normalize(r.question))) if t not in near)
    if not r.cross:
        from bot.answerability import swaps

        out.extend(u for u in _modifiers(r, sent, near) if not any(u.text in o.text for o in out))
        # the sentence names another of the kind the question asks about: 企业 where 高校 was asked.  A common
        # noun counts only when the retrieved passages use the question's word elsewhere (else it is more often
        # a paraphrase: 公司 for 企业); measured on CMRC part 1 with its near-miss variants (docs/answerability.md)
        out.extend(Unmet("subject", t.text) for t, _, kind, elsewhere in swaps(r, detail=True)
                   if kind in SUBJECT_KINDS and (kind != "noun" or elsewhere) and not any(t.text in u.text for u in out))
    return out


def _modifiers(r: Ranking, sent: str, near: str) -> list[Unmet]:
    """A qualifier the documents never use, on a thing the sentence does name: 地方 in 地方标准 when
    the sources only speak of 国际、国家、行业标准.

    Only qualifiers absent from the whole corpus count (``Term.oov``): a word the corpus uses elsewhere
    (时期, 期间, 区域 …) is too often an aside of the question; measured on CMRC training questions, that
    wider rule refused more right answers than wrong ones.
    """
    from bot.extractive import _asked_for, _pos_cut

    words = [(w.strip(), f) for w, f in _pos_cut(unicodedata.normalize("NFKC", r.question).lower())]
    asked = _asked_for(tuple(words))
    by_text = {t.text: t for t in r.terms}
    out = []
    for i, (word, flag) in enumerate(words[:-1]):
        term = by_text.get(word)
        if (term is None or not term.oov or word in asked or len(word) < 2 or not flag.startswith(_MODIFIER_FLAGS)
                or word in near):
            continue
        head, head_flag = words[i + 1]
        if len(head) >= 2 and head_flag.startswith("n") and head in sent:
            out.append(Unmet("modifier", word + head))
    return out


def not_covered_lead(found: list[Unmet], cross: bool) -> str:
    """The sentence that says what the documents do not cover, before the related quote."""
    if cross:
        return "The documents do not mention " + ", ".join(f"“{u.text}”" for u in found) + ". What they say: "
    return "资料未提及" + "、".join(f"“{u.text}”" for u in found) + "；资料中相关的内容是："
