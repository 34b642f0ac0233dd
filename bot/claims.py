"""Facts a model states outside its verified quotes, and whether the cited sources back each one.

A language model may quote the right sentence and still state a different fact
beside it: "不超过1000亿元" next to a quote of "不超过1000万元", "五千万元" in
Chinese numerals, "从未发放" (a negation), "还须向 http://… 缴纳保证金" (an added
duty and a link).  ``unsupported`` lists every such claim in the text outside
the quotes that the cited sources do not contain:

* quantities — Arabic or Chinese numerals with their magnitude (万, 亿, million)
  and unit (元, %, 年, yuan …), compared by value, so 1000万元 = 一千万元 =
  10 million yuan but ≠ 1000亿元;
* negations and obligations — words from ``bot/data/claim_words.yaml`` that
  must also occur in a cited source (a one-character word together with the
  character after it, so 不超过 is backed by 不超过 and not by any 不);
* links and e-mail addresses, which must occur verbatim.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.text import normalize

_WORDS_FILE = Path(__file__).with_name("data") / "claim_words.yaml"
_LINK = re.compile(r"(?:https?://|www\.)[^\s「」<>\"'，。；）)]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_MAGNITUDE = {"十": 1e1, "百": 1e2, "千": 1e3, "万": 1e4, "亿": 1e8,
              "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_UNITS = {"元": "元", "块": "元", "yuan": "元", "rmb": "元", "cny": "元", "%": "%", "％": "%", "percent": "%",
          "个": "个", "家": "家", "项": "项", "年": "年", "月": "月", "日": "日", "天": "天", "倍": "倍",
          "人": "人", "次": "次", "台": "台", "件": "件", "亩": "亩", "吨": "吨", "平方米": "平方米",
          "公里": "公里", "千米": "公里", "km": "公里", "year": "年", "years": "年", "times": "倍"}
_UNIT_RE = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_QUANTITY = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?|[{_CN_DIGITS}]+(?:点[{_CN_DIGITS}]+)?)"
    rf"\s*(?P<mag>[十百千万亿]+|(?:thousand|million|billion|trillion)\b)?"
    rf"\s*(?P<unit>{_UNIT_RE})?",
    re.IGNORECASE)
_MONEY_UNITS = ("元", "%", "倍")  # a Chinese-numeral run counts as a quantity only with one of these, or a magnitude


@dataclass(frozen=True)
class Quantity:
    """A number's value with its magnitude applied, and its unit (None when it has none)."""

    text: str
    value: float
    unit: str | None


def unsupported(text: str, sources: str) -> list[str]:
    """The claims in ``text`` (a model's words outside its quotes) that ``sources`` do not contain."""
    folded_text, folded_sources = _fold(text), _fold(sources)
    missing = [q.text for q in quantities(folded_text) if not _quantity_backed(q, folded_sources)]
    missing += [w for w in claim_words(folded_text) if not _word_backed(w, folded_sources)]
    missing += [link for link in _LINK.findall(folded_text) if normalize(link.rstrip(".")) not in normalize(sources)]
    return missing


def _fold(text: str) -> str:
    """NFKC, lower case, no thousands separators; spaces kept, since English words need their boundaries."""
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", unicodedata.normalize("NFKC", text).casefold())


def quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` with its magnitude and unit (``text`` normalised: no thousands separators)."""
    found = []
    for match in _QUANTITY.finditer(text):
        num, mag, unit = match.group("num"), match.group("mag"), match.group("unit")
        unit_name = _UNITS.get(unit.lower()) if unit else None
        if not num[0].isdigit() and not (mag or unit_name in _MONEY_UNITS or any(c in "十百千万亿" for c in num)):
            continue  # 一些, 统一, 第一: Chinese numerals inside ordinary words are not figures
        value = _number(num)
        if value is None:
            continue
        for part in re.findall(r"[十百千万亿]|thousand|million|billion|trillion", (mag or "").lower()):
            value *= _MAGNITUDE[part]
        found.append(Quantity(text=match.group().strip(), value=value, unit=unit_name))
    return found


def claim_words(text: str) -> list[str]:
    """Negation and obligation words in ``text`` (one-character ones with the character after them)."""
    words = _claim_words()
    found = []
    for word in words["en"]:
        if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text):
            found.append(word)
    for token, after in _tokens(text):
        if token in words["zh"]:
            found.append(token + after if len(token) == 1 else token)
    return found


def _quantity_backed(claim: Quantity, sources: str) -> bool:
    return any(math.isclose(claim.value, q.value, rel_tol=1e-9)
               and (claim.unit is None or q.unit is None or claim.unit == q.unit)
               for q in quantities(sources))


def _word_backed(word: str, sources: str) -> bool:
    if word.isascii():  # in the source itself, or else any Chinese word of its kind stands for it
        if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", sources):
            return True
        kind = next(k for k, v in _claim_kinds().items() if word in v["en"])
        return any(token in _claim_kinds()[kind]["zh"] for token, _ in _tokens(sources))
    return word in sources


def _number(text: str) -> float | None:
    if text[0].isdigit():
        return float(text)
    import cn2an

    try:
        return float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, IndexError):
        return None


def _tokens(text: str) -> list[tuple[str, str]]:
    """``(word, first character of the next word if it is a letter)`` for the jieba words of ``text``."""
    import jieba

    words = [w for w in jieba.lcut(text, HMM=False) if w.strip()]
    if not words:
        return []
    nexts = [w[0] if w[0].isalnum() else "" for w in words[1:]] + [""]
    return list(zip(words, nexts, strict=True))


@lru_cache(maxsize=1)
def _claim_kinds() -> dict[str, dict[str, frozenset[str]]]:
    data = yaml.load(_WORDS_FILE.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # every entry a string
    return {kind: {lang: frozenset(words) for lang, words in langs.items()} for kind, langs in data.items()}


@lru_cache(maxsize=1)
def _claim_words() -> dict[str, frozenset[str]]:
    kinds = _claim_kinds().values()
    return {"zh": frozenset().union(*(k["zh"] for k in kinds)), "en": frozenset().union(*(k["en"] for k in kinds))}
