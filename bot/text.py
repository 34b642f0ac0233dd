"""Chinese-aware text primitives: normalisation with offsets, sentences, tokens.

These are hand-written because no library keeps character offsets through
NFKC normalisation or splits Chinese sentences without breaking 《titles》 and
numbers such as ``36.9%``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# the words that make a Chinese sentence a question for something (多少, 哪, 谁 …), as a pattern
QUESTION_WORDS = r"多少|几[个项家名位次年月天岁号点]|什么|啥|哪|谁|怎么|怎样|如何|多大|多高|多长|多久|为何|为什么"
_SENT_END = "。！？；!?;…"
_CLOSERS = "”’」』）)】\"'"


def normalize(text: str) -> str:
    """NFKC, lower case, whitespace removed, thousands separators dropped."""
    return normalize_with_map(text)[0]


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and return, for each output char, its source index.

    Whitespace is removed (Chinese has no word spaces, and layout breaks must
    not hide a quote); ``1,000`` becomes ``1000``.
    """
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        norm = unicodedata.normalize("NFKC", ch).lower()
        if norm == "," and _between_digits(text, i):
            continue
        for c in norm:
            if c.isspace():
                continue
            out.append(c)
            idx.append(i)
    return "".join(out), idx


def _between_digits(text: str, i: int) -> bool:
    """A digit on each side of ``text[i]`` (spaces skipped); the string's edge counts as a digit.

    Only the nearest neighbours decide, and an edge counts as a digit, so any
    slice of a text normalises like the same stretch of the whole text (``1,``
    cut from ``1,000`` becomes ``1`` and is still found).
    """
    before = i - 1
    while before >= 0 and text[before].isspace():
        before -= 1
    after = i + 1
    while after < len(text) and text[after].isspace():
        after += 1
    return (before < 0 or text[before].isdigit()) and (after >= len(text) or text[after].isdigit())


def find_span(quote: str, text: str) -> tuple[int, int] | None:
    """Offsets of ``quote`` in ``text`` after normalisation on both sides, or None."""
    nq = normalize(quote)
    if not nq:
        return None
    nt, idx = normalize_with_map(text)
    pos = nt.find(nq)
    while pos >= 0:
        end = pos + len(nq)
        # a match must start and end on whole source characters, not inside the
        # expansion of one (NFKC turns "…" into "...", "½" into "1⁄2")
        if (pos == 0 or idx[pos - 1] != idx[pos]) and (end == len(nt) or idx[end] != idx[end - 1]):
            return idx[pos], idx[end - 1] + 1
        pos = nt.find(nq, pos + 1)
    return None


def is_cjk(text: str) -> bool:
    """True when the text is mostly Chinese characters."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    return sum(1 for c in letters if _CJK.match(c)) / len(letters) >= 0.3


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of sentences in ``text[start:end]``.

    Ends at 。！？；…, at ``.`` followed by a space, and at line breaks; never
    inside 《》 or between the digits of a number.  Trailing closing quotes stay
    with their sentence.  Spans cover every non-space character exactly once.
    """
    end = len(text) if end is None else end
    i = start
    depth = 0
    sent_start = start
    while i < end:
        ch = text[i]
        if ch == "《":
            depth += 1
        elif ch == "》" and depth:
            depth -= 1
        boundary = False
        if ch == "\n":
            boundary = True
        elif depth == 0 and (ch in _SENT_END or (ch == "." and (i + 1 >= end or text[i + 1] == " "))):
            while i + 1 < end and (text[i + 1] in _SENT_END or text[i + 1] in _CLOSERS):
                i += 1
            boundary = True
        if boundary:
            s, e = _strip(text, sent_start, i + 1)
            if s < e:
                yield s, e
            sent_start = i + 1
            depth = 0 if ch == "\n" else depth
        i += 1
    s, e = _strip(text, sent_start, end)
    if s < e:
        yield s, e


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 都 就 而 并 对 为 以 于 等 把 被 让 给 从 到 向 这 那 其 之 个 些 么 吗 呢 吧 啊 呀
    什么 多少 几 哪 哪些 哪个 哪里 哪年 如何 怎么 怎样 怎么样 是否 有没有 有 没有 请问 请 一下 我 我们 你 你们 他 她 它
    他们 咱们 能 能够 可以 会 要 想 需要 应该 获得 拿 到底 具体 一共 总共 大概 目前 现在 知道 告诉 关于 一个 哪家 谁
    多 少 吗 呢 啥 呗 么 嘛 是不是 可不可以 能不能 得到 the a an of to in on for is are was were be by and or
    what how many much which who whom when where why does do did can could would should will with about at as
    from that this these those it its i we you they our your please tell me much there their has have had get got
    give given make made into than then also just only most more any some each other such very""".split()
)

_TOKEN_OK = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)


@lru_cache(maxsize=65536)
def _cut(text: str) -> tuple[str, ...]:
    return tuple(jieba.lcut_for_search(text))


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Lower-cased jieba search tokens without punctuation (and stopwords)."""
    norm = unicodedata.normalize("NFKC", text).lower()
    tokens = []
    for tok in _cut(norm):
        tok = tok.strip()
        if not tok or not _TOKEN_OK.search(tok):
            continue
        if not keep_stopwords and tok in STOPWORDS:
            continue
        tokens.append(tok)
    return tokens


def read_table(path: Path) -> list[list[str]]:
    """The rows of a data file of ``bot/data``: tab-separated columns, one row per line, ``#`` comments and blank
    lines skipped."""
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def read_word_table(path: Path) -> dict[str, tuple[str, ...]]:
    """A word list of ``bot/data``: ``word<TAB>space-separated equivalents<TAB>provenance…`` per line, ``#`` comments."""
    return {word: tuple(equivalents.split()) for word, equivalents, *_ in read_table(path)}
