"""Explicit checks that the quoted sentence meets every constraint the question sets.

A sentence can share most of a question's words and still answer another
question: 国家标准 for a question about 地方标准, 2023年 for one about 2022年,
10亿元 for one about 20亿元, and so on.  Each check here is
generic — it looks at the question's structure, never at particular words —
and its precision was measured on CMRC training questions (``docs/answerability.md``).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.text import QUESTION_WORDS, is_cjk, normalize, read_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bot.extractive import Ranking

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*年)?(?!\d)")
_RELATIVE_YEAR = re.compile(r"前年|去年|今年|明年|后年")
_COMPARED_YEAR = re.compile(r"(?:与|和|同|跟|比|较)(?:前年|去年|今年)(?:相比|相较|同期)?|(?:前年|去年)同期")
_GE_MAGNITUDE = re.compile(r"(\d+(?:\.\d+)?|[一二三四五六七八九十两]+)\s*个\s*(亿|万)")
_ANY_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年")
# a number with its magnitude (万/亿) and unit: 20亿元, 3.5万, 60%, 11月
_QUANTITY = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万|亿|千|百)?\s*(元|%|月|个|家|项|名|次|人|岁|米|倍|台|座)?")
# the kinds of swapped word (``bot.answerability.swaps``) that fail the question: not verbal nouns (paraphrase)
SUBJECT_KINDS = ("place", "org", "person", "name", "latin", "time", "number", "noun", "title")
_TITLE = re.compile(r"《([^》]+)》")
_MODIFIER_FLAGS = ("n", "a", "b", "j", "s", "f")  # nouns (incl. places, names), adjectives, 区别词 (省级/国际)
_NAMES = ("nr", "ns", "nt", "nz")
# a count the question asks for (几台, 多少名, 多少平方公里): the measure word after 几/多少, by jieba's tags
_NUMERAL = r"(?:\d+(?:[.,]\d+)*|[〇零一二三四五六七八九十百千万亿两半数]+)"
_MAGNITUDE = r"[余多万亿千百十几]*"
_CALENDAR_YEAR = r"(?:1\d{3}|20\d{2}|[一二][〇零一二三四五六七八九]{3})"  # a calendar year, 1000–2099
_YEAR_DATE = re.compile(f"{_CALENDAR_YEAR}(?:\\s*[~～至到\\-–—]\\s*{_CALENDAR_YEAR})?年")
_NOT_COUNTS = ("月", "号", "日", "点", "时", "年级")  # dates and times, a school grade: not counts
_MONEY = ("元", "万", "亿")


@dataclass(frozen=True)
class Count:
    """A count the question asks for in a measure word (``asked_units``)."""

    said: str  # the question's words: 几台, 多少人
    unit: str  # the measure word: 台, 人 (钱: money)
    loose: bool  # a one-character noun (多少人): a unit only where the passages count in it
    ordinal: bool  # a place in an order (第几届, 排多少名)
    noun: str  # the noun counted (部门 in 几个部门), or ""


@dataclass(frozen=True)
class Unmet:
    """One constraint of the question that the quoted sentence does not meet."""

    kind: str  # year | quantity | unit | bound | place | kind | modifier | title | subject
    text: str  # as the question says it, e.g. 地方标准, 2022年, 20亿元


def _qualifies(words: list[tuple[str, str, int]], i: int) -> bool:
    """Whether the word before ``words[i]`` qualifies it: a noun (区块链, which jieba may cut to 区块 / 链) or a verb
    of two characters or more (应用), not a time, place or number."""
    from bot.answerability import _kind

    if i == 0:
        return False
    word, flag, _ = words[i - 1]
    if len(word) < 2 and flag.startswith("n") and i >= 2:
        word, flag = words[i - 2][0] + word, words[i - 2][1]
    return len(word) >= 2 and flag.startswith(("n", "v")) and _kind(word, flag) not in ("time", "place", "number")


_ACRONYM = re.compile(r"(?<![A-Za-z])[A-Z][A-Z0-9]+(?![A-Za-z])")


def _qualified_words(text: str) -> list[tuple[str, str, int]]:
    """Content words with their jieba tags and offsets, a one-character adjective or noun joined to the noun right
    after it (大 / 数据 → 大数据) and clause breaks kept."""
    from bot.answerability import _words

    out: list[tuple[str, str, int]] = []
    for word, flag, at in _words(text):
        if out and len(out[-1][0]) == 1 and out[-1][1].startswith(("a", "n")) and out[-1][2] + 1 == at and flag.startswith("n"):
            out[-1] = (out[-1][0] + word, flag, out[-1][2])
        else:
            out.append((word, flag, at))
    return out


def _noun_pairs(words: list[tuple[str, str, int]]) -> Iterator[tuple[str, str, str]]:
    """(qualifier, its tag, noun) for each noun written right after another content word (大数据产业)."""
    for (m, fm, at), (h, fh, bt) in itertools.pairwise(words):
        if at + len(m) == bt and len(m) >= 2 and len(h) >= 2 and fh.startswith("n"):
            yield m, fm, h


_WH_BEFORE = re.compile(r"(?:哪|什么|何|啥|几)[一个些种类家所位项门]?$")


def _qualifier_of_another(r: Ranking, sent: str, near: str) -> list[Unmet]:
    """A qualifier of a noun the question names (大数据 of 大数据产业规模) that the sentence, its heading and the
    sentence before never state, where the sentence states the noun and a word the retrieved passages put right
    before that noun themselves (人工智能, of their 人工智能产业): the figure is the other one's (…人工智能企业835家，
    产业规模690亿元).  Which words qualify the noun is read from the passages, not from a list.  A kind the question
    asks (哪个学校的校长, 什么类型的小说) is not a qualifier it sets."""
    from bot.answerability import _kind

    question = unicodedata.normalize("NFKC", r.question).lower()
    near = near.lower()
    pairs = [(m, h) for m, fm, h in _noun_pairs(_qualified_words(question))
             if is_cjk(m) and _kind(m, fm) == "noun" and m not in near and h in sent
             and not _WH_BEFORE.search(question[: question.find(m + h)])]
    if not pairs:
        return []
    passages = [p for c in r.chunks for p in _noun_pairs(_qualified_words(normalize(c.page_content).lower()))]
    qualified = {x for w, f, x in _noun_pairs(_qualified_words(sent)) if _kind(w, f) == "noun"}
    out = []
    for m, h in pairs:
        others = {w for w, f, x in passages if x == h and _kind(w, f) == "noun" and w not in question and m not in w}
        # and where jieba keeps the pair one word (软件产业 before 规模): its head's qualifier
        others |= {w[: -len(h)] for w, _f, _x in passages
                   if w.endswith(h) and len(w) - len(h) >= 2 and w[: -len(h)] not in question and m not in w}
        # the sentence names another's noun, or names the noun bare after a sentence that names another's: its
        # subject carried over (人工智能产业规模为616亿元。上半年产业规模达424亿元)
        if any(w in sent or (h not in qualified and w + h in r.best.previous) for w in others):
            out.append(Unmet("subject", m + h))
    return out


# the present asked (目前有多少, "at present") against a figure the sentence sets only as a goal (力争到2025年达到…)
_PRESENT = re.compile(r"目前|现在|现有|当前|如今|眼下|至今|迄今|截至目前|\b(?:at present|currently|now|so far|to date|"
                      r"presently|today|as of now)\b", re.I)
_GOAL = re.compile(r"力争|目标|剑指|计划|预计|预期|争取|规划|有望|将达到|将突破|到20\d\d年")
_STATED = re.compile(r"目前|现有|截至|已经|已有|已达|现已|共有|当前")


def _goal_for_present(question: str, sent: str) -> list[Unmet]:
    """What there is now (目前有多少个场景, "how many … at present") is not answered by a figure the sentence sets
    only as a goal (剑指2025年…场景数量达到100个以上): a plan states no present state.  A sentence that also states
    where things stand (截至…, 目前…, 已…) may answer it."""
    if not _PRESENT.search(question) or not _GOAL.search(sent) or _STATED.search(sent):
        return []
    return [Unmet("subject", "the present figure" if not is_cjk(question) else "目前的情况")]


RECIPIENTS_PATH = Path(__file__).parent.parent / "data" / "recipients.tsv"


@lru_cache(maxsize=1)
def _recipient_kinds() -> list[tuple[str, tuple[str, ...], re.Pattern[str]]]:
    """(kind, its Chinese words, its English words as a pattern) from ``bot/data/recipients.tsv``."""
    out = []
    for kind, zh, en, *_ in read_table(RECIPIENTS_PATH):
        # whole words, singular or plural (company, companies; firm, firms)
        forms = [rf"{re.escape(w[:-1])}(?:y|ies)" if w.endswith("y") else rf"{re.escape(w)}(?:e?s)?" for w in en.split()]
        out.append((kind, tuple(zh.split()), re.compile(rf"\b(?:{'|'.join(forms)})\b", re.I)))
    return out


def _recipients(text: str, *, english: bool = False) -> dict[str, str]:
    """The kinds of recipient ``text`` names, each with the word that names it (软件企业 names 企业)."""
    from bot.extractive import _pos_cut

    found: dict[str, str] = {}
    if english:
        for kind, _zh, en in _recipient_kinds():
            if m := en.search(text):
                found.setdefault(kind, m.group())
        return found
    words = [w for w, _ in _pos_cut(text)]
    for kind, zh, _en in _recipient_kinds():
        for w in words:
            if any(w.endswith(z) for z in zh):
                found.setdefault(kind, w)
                break
    return found


def _other_recipient(r: Ranking, sent: str) -> list[Unmet]:
    """The question names who gets something (a university, 个人) and the sentence names recipients of other kinds
    only (…的企业，给予…): it is another rule's support. A sentence that names no recipient is not judged."""
    asked = _recipients(r.question, english=r.cross)
    said = _recipients(sent)
    if not asked or not said or set(asked) & set(said):
        return []
    return [Unmet("subject", next(iter(asked.values())))]


def _acronym_other_qualifier(r: Ranking, sent: str) -> list[Unmet]:
    """A question's acronym qualifier that the sources use themselves (AI产业, "AI industry") on a noun the sentence
    states only right after another qualifier, a noun or verb (区块链产业, 卫星应用产业), while the sentence never
    states the acronym nor any of its dictionary translations (人工智能): the figure is the other thing's, as the
    Chinese swap check reads 区块链产业 against 人工智能产业 (it aligns Chinese words only).  A noun after a time or place
    (上半年产业规模) takes its qualifier from the sentence before, and is left alone.  Only an acronym: an ordinary
    English word the sources happen to use ("public", "restaurant") or a translated one may be worded otherwise
    (CMRC part 2 in English: those refused 11 right answers for 3 wrong ones; docs/answerability.md)."""
    from bot.answerability import BREAK, _words
    from bot.crosslingual import dictionary_translations

    acronyms = {w.lower(): w for w in _ACRONYM.findall(r.question)}
    if not acronyms:
        return []
    by_text = {t.text: t for t in r.terms}
    if r.cross:
        pairs = [(a, by_text[b].variants, f"{a} {b}") for a, b in itertools.pairwise(english_words(r.question))
                 if b in by_text]
    else:
        qwords = _words(unicodedata.normalize("NFKC", r.question).lower())
        pairs = [(a, (b,), f"{a}{b}") for (a, _, _), (b, fb, _) in itertools.pairwise(qwords)
                 if fb != BREAK and len(b) >= 2 and b in by_text]
    swords = _words(unicodedata.normalize("NFKC", r.best.text).lower())
    out = []
    for a, heads, said in pairs:
        qualifier = by_text.get(a)
        if a not in acronyms or qualifier is None or qualifier.oov or qualifier.variants:
            continue
        if any(f in sent for f in (a, *(z for z in dictionary_translations(a) if len(z) >= 2))):
            continue
        spots = [i for i, (w, _, _) in enumerate(swords) if w in heads]
        if spots and all(_qualifies(swords, i) for i in spots):
            out.append(Unmet("subject", said.replace(a, acronyms[a], 1)))
    return out


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
    out.extend(_other_year(r, sent, years))
    if not any(o.kind == "year" for o in out):
        out.extend(_relative_year(question, sent))
        if not r.cross:
            out.extend(_date_of_other_event(question, sent))
    out.extend(u for u in _year_part(question, sent, years, cross=r.cross) if not any(o.kind == "year" for o in out))
    if not r.cross:
        out.extend(_absent_names(r))
        out.extend(u for u in _attribute_holder(r, sent) if not any(o.kind == "year" for o in out))
        if not asks_yes_no(r.question):  # 不是继承人…可以继承遗产吗: the denial is what is asked about
            out.extend(_negated_condition(r, sent))
            out.extend(_denied_threshold(r, sent))
            out.extend(_place_outside(r, sent))
            out.extend(_share_outside_bound(question, sent))
        out.extend(_absent_attribute(r, sent))
        out.extend(_attribute_without_figure(r, sent))
    out.extend(_ranked_elsewhere(r, sent))
    out.extend(_ranked_attribute(r, sent))
    out.extend(_other_holder(r))
    out.extend(_acronym_other_qualifier(r, sent))
    out.extend(_other_recipient(r, sent))
    amounts = _GE_MAGNITUDE.sub(r"\1\2", question)  # 3个亿 is 3亿, not three of something
    for num, mag, unit in _QUANTITY.findall(amounts):
        if num in years or (not mag and not unit):
            continue
        said = f"{num}{mag}{unit if unit == '%' or unit == '月' else ''}"
        if said not in near and not (unit == "%" and meets_share_bound(f"{num}%", sent)):  # 75% of 占比60%以上
            out.append(Unmet("quantity", f"{num}{mag}{unit}"))
    out.extend(_worded_quantities(amounts, near, years))
    out.extend(_other_bound(r, sent))
    out.extend(_once_or_yearly(question, sent))
    out.extend(_goal_for_present(r.question, sent))
    out.extend(_total_for_each(r, sent))
    out.extend(_count_of_listed_item(r, sent))
    form = asked_form(r.question)
    if form is not None and not form[1].search(sent):
        out.append(Unmet("unit", form[2] if r.cross else form[0]))  # 电话是多少 answered by 1000万元: 资料未提及“电话”
    kind = asked_kind(r.question)
    # an English question names its own places in English: the sentence's 杭州 is the question's Hangzhou, not an answer
    if kind is not None and not names_kind(_quote(r), r.question, kind,
                                           said=tuple(v for t in r.terms for v in t.variants) if r.cross else ()):
        out.append(Unmet("unit", kind.said if r.cross else kind.name))  # 哪个部门发布 answered by where it was released
    elif kind is not None and not r.cross and (item := _only_listed(r.question, sent)):
        out.append(Unmet("subject", f"{item}的{kind.name}"))  # 包括A平台、B系统等: nothing says whose A is
    measure = asked_measure(r.question)
    if measure is not None and not measure[2].search(sent):
        # 多重 answered by 身高1.3米: 资料未提及“重量”; in English the question's word ("weight")
        out.append(Unmet("unit", measure[0] if r.cross else measure[1]))
    if r.cross:
        out.extend(_english_count(r, near))
        out.extend(_english_level(r, sent))
        out.extend(_chinese_in_english(r, near))
        out.extend(_english_half(r, sent))
        out.extend(_english_negated(r, sent))
        out.extend(_english_place_outside(r, sent))
        out.extend(_english_modifier(r, sent, chunk))
        out.extend(_english_rank(r, sent))
    # a count asked for in a measure word (几台, 多少年) that the sentence does not state in that unit: 几年 answered
    # by a sentence that only says 835家; a loose one (多少人) only when the retrieved passages do count in it
    for count in asked_units(r.question):
        if not states_count(near, count) and not (
                count.loose and not any(states_count(normalize(c.page_content), count.unit) for c in r.chunks)):
            out.append(Unmet("unit", count.said + count.noun))  # 多少个国家: what was counted, not just 多少个
    # a work the question names by its 《title》 that the sentence, its heading and previous sentence do not name: the
    # sentence is about another work (CMRC: never on a right answer, on 4 % of the near-miss variants)
    out.extend(Unmet("title", f"《{t}》") for t in dict.fromkeys(_TITLE.findall(normalize(r.question))) if t not in near)
    out.extend(u for u in _unlisted_kinds(r, sent) if not any(u.text in o.text or o.text in u.text for o in out))
    if not r.cross:
        from bot.answerability import swaps

        if not asks_yes_no(r.question):  # 口头变更有效吗 is answered by a sentence on when it is 无效
            out.extend(u for u in _opposite_words(r, sent) if not any(u.text in o.text or o.text in u.text for o in out))

        out.extend(u for u in _modifiers(r, sent, near) if not any(u.text in o.text for o in out))
        out.extend(u for u in _qualifier_of_another(r, sent, near) if not any(u.text in o.text or o.text in u.text
                                                                              for o in out))
        # the sentence names another of the kind the question asks about: 企业 where 高校 was asked.  A common
        # noun counts only when the retrieved passages use the question's word elsewhere (else it is more often
        # a paraphrase: 公司 for 企业); measured on CMRC part 1 with its near-miss variants (docs/answerability.md)
        # named as the question words it (下半年, even when the corpus knows only its piece 半年)
        out.extend(Unmet("subject", word) for t, _, kind, elsewhere, word in swaps(r, detail=True)
                   if kind in SUBJECT_KINDS and (kind != "noun" or elsewhere) and not any(t.text in u.text for u in out))
        # last, so that a qualifier already named (省级示范园区) is not named again as a level (省级)
        out.extend(u for u in _province_level(r, sent) if not any(u.text in o.text for o in out))
    return out


def _relative_year(question: str, sent: str) -> list[Unmet]:
    """A year named relative to the text's date (去年) against a sentence that names another so (今年): another year.
    A year the sentence compares with (与去年相比, 比去年, 去年同期) is not the one it states."""
    relative, stated = _RELATIVE_YEAR.findall(question), set(_RELATIVE_YEAR.findall(_COMPARED_YEAR.sub("", sent)))
    return [Unmet("year", relative[0])] if relative and stated and not stated & set(relative) else []


# a question asking when (哪一年, 什么时候), and the dates a sentence gives; a clause that opens a later or consequent
# event (由此, 此后, 从而; not 随后, "right after", which CMRC's answers date with the event before it) ends a date's clause
_ASKS_WHEN = re.compile(r"哪一?年|何年|何时|什么时候|什么时间|哪一?天|哪个月|几月|几号")
_ASKS_YEAR = re.compile(r"哪一?年|何年")
_DATE = re.compile(r"(?:1\d{3}|20\d{2})\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*[日号])?|\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?")
_NEXT_EVENT = re.compile(r"由此|此后|之后|后来|从而|进而|[;；]")
_BRACKETED = re.compile(r"\([^()]*\)|（[^（）]*）|“[^“”]*”|《[^《》]*》")
_WHEN_LINKS = frozenset("是 在 于 是在 是于 从 是从 自".split())
_LIGHT_VERBS = frozenset("是 有 在 为 于 会 被 让 到 了 开始 进行 成为 发生 举行 举办 出现".split())


def _event_words(question: str) -> list[str]:
    """What a when-question dates: the words after its asking words, up to their object (获批, 建设 and 示范区 in
    "X是哪一年获批建设国家级示范区的"; the object's modifiers are left out), and with no object the noun it is asked
    of first (X and 揭牌 in "X是什么时候揭牌的"), in the question's order."""
    from bot.extractive import _pos_cut

    asked = _ASKS_WHEN.search(question)
    if asked is None:
        return []
    cut = [(w.strip(), f) for w, f in _pos_cut(question)]
    starts = list(itertools.accumulate((len(w) for w, _ in cut), initial=0))
    at = next((i for i, s in enumerate(starts[:-1]) if s <= asked.start() < starts[i + 1]), None)
    if not at:  # 哪一年X…: the subject follows the asking words
        return []
    after = next((i for i, s in enumerate(starts) if s >= asked.end()), len(cut))
    predicate = [(w, f) for w, f in itertools.takewhile(lambda wf: wf[1] != "x", cut[after:]) if w not in ("的", "了")]
    if len(predicate) >= 2 and predicate[0][0] in ("在", "于"):
        predicate = predicate[2:]  # 是哪一年在杭州获批的: where, not what
    nouns = [i for i, (w, f) in enumerate(predicate) if f[:1] in ("n", "j") and len(w) >= 2]
    words = [w for w, _ in predicate[:nouns[0] if nouns else len(predicate)] if len(w) >= 2 and w not in _LIGHT_VERBS]
    if nouns:
        return [*words, predicate[nouns[-1]][0]]
    before = at - 1
    while before >= 0 and cut[before][0] in _WHEN_LINKS:
        before -= 1
    if before >= 0 and cut[before][1][:1] in ("n", "j") and len(cut[before][0]) >= 2 and is_cjk(cut[before][0]):
        words.insert(0, cut[before][0])
    return words


def _date_of_other_event(question: str, sent: str) -> list[Unmet]:
    """A when-question answered by a date that belongs to another event of the sentence: "哪一年获批建设示范区" of
    "2020年3月，A园区揭牌，由此，该市进入示范区与园区并行的阶段" — the event's words (获批, 示范区) are in the sentence, but
    in none of its dates' clauses.  A date's clause runs from the punctuation before it (brackets aside) to the next
    date, a clause that opens a later event (由此, 此后) or a semicolon; a date inside brackets, quotation marks or a
    《title》 is a name's, not a date.  A sentence that has none of the event's words
    is left alone (a paraphrase: 卒于 for 去世).  Measured on CMRC 2018 dev: 2 of 249 right-answer sentences to a
    when-question fire (docs/answerability.md)."""
    words = _event_words(question)
    if not words or not any(w in sent for w in words):
        return []
    # commas in brackets do not end a clause, and a year in a name (“2023年度大会”, 《2023年报告》) dates no event
    plain = _BRACKETED.sub(lambda m: "_" * len(m.group()), sent)
    dates = [d for d in _DATE.finditer(plain) if "年" in d.group() or not _ASKS_YEAR.search(question)]
    if not dates:
        return []
    for d in dates:
        begin = max((m.end() for m in _CLAUSE.finditer(plain, 0, d.start())), default=0)
        ends = [m.start() for m in [_NEXT_EVENT.search(plain, d.end()), _DATE.search(plain, d.end())] if m]
        if any(w in sent[begin:min(ends, default=len(sent))] for w in words):
            return []
    return [Unmet("subject", "".join(words))]


# what a question asks of its subject comes right before the asking words: 增速 in 增速是多少, 规模 in 规模多大
_ASKS_WHEN_WHERE = re.compile(r"^(?:是|在|到|于|为)?(?:什么时候|什么时间|何时|哪天|哪一天|多久|哪里|哪儿|何处)")
_ASKS = re.compile(r"^(?:是|为|约|达|达到|大约|了|有)?(?:多少|几|多大|多高|多长|多重|多快|第几)")
_SEGMENT = re.compile(r"(?<!\d)(?:19|20)\d{2}(?:\s*年|(?=\s*[至到~～\-–—、和]\s*(?:19|20)\d{2}))")
_JOINS = re.compile(r"[\s年至到~～\-–—、和与及间]*")


def _asking(question: str) -> tuple[list[tuple[str, str]], Iterator[tuple[int, str]]]:
    """The question's words with their jieba flags, and where asking words (多少, 是多少, 有多大, 几) begin among them
    (index, the asking words matched) — from the second word on."""
    from bot.extractive import _pos_cut

    cut = [(w.strip(), f) for w, f in _pos_cut(unicodedata.normalize("NFKC", question).lower())]
    words = [w for w, _ in cut]
    spots = ((i, m.group()) for i in range(1, len(words)) for m in [_ASKS.match("".join(words[i:i + 3]))] if m)
    return cut, spots


def _rest_of_clause(cut: list[tuple[str, str]], i: int) -> Iterator[tuple[str, str]]:
    """The words after the ``i``-th, up to the next punctuation."""
    return itertools.takewhile(lambda wf: wf[1] != "x", cut[i + 1:])


def asked_attribute(question: str, *, when_where: bool = False) -> str:
    """The word for what the question asks of its subject: 增速 in 2022年区块链产业增速是多少, 身高 in 身高多少;
    "" when the asking words follow no content word of two or more characters (能拿多少, 有多少家企业) or a noun
    follows them (通过多少经费).  ``when_where``: a time or place asked of a thing's attribute (…的有效期到什么时候,
    …的地址在哪里) counts too; the asking words' own nouns (时候 of 什么时候) are not a noun that follows them."""
    from bot.extractive import GENERIC

    cut, spots = _asking(question)
    words = [w for w, _ in cut]
    if when_where:  # of a thing the question names (…的有效期到什么时候), not the thing itself (X站是什么时候开通的)
        spots = itertools.chain(spots, ((i, m.group()) for i in range(2, len(words)) if words[i - 2] == "的"
                                        for m in [_ASKS_WHEN_WHERE.match("".join(words[i:i + 3]))] if m))
    for i, asked in spots:
        if not _ASKS.match(words[i - 1]):
            before = words[i - 1]
            last = i if _ASKS.match(asked) else next(
                j for j in range(i, len(words)) if len("".join(words[i:j + 1])) >= len(asked))
            if any(f.startswith("n") and len(w) >= 2 for w, f in _rest_of_clause(cut, last)):
                return ""  # 通过多少经费: the amount of what follows is asked
            return before if len(before) >= 2 and is_cjk(before) and before not in GENERIC else ""
    return ""


# a change asked of a noun's figure: the verbs of rise and fall, right before the asking words (涨了多少, 下降了几成)
_CHANGE_ASKED = re.compile(r"(?:涨|增长|增加|提高|提升|上涨|上升|下降|下跌|减少|降低|降|跌|增)(?:了|幅)?(?:多少|几|百分之几|好多)")


def _absent_attribute(r: Ranking, sent: str) -> list[Unmet]:
    """What the question asks of its subject, a common noun (存储规模 in 数据中心的存储规模是多少), of which the
    sentence has not one character: it states some other figure (用户数量800家).  A paraphrase keeps a character
    more often than not (总长 / 长约, 售价 / 只售), and an asked measure the sentence states in its unit (面积 /
    5平方公里) is met whatever the word; names are left to the holder check."""
    from bot.extractive import _pos_cut

    question = unicodedata.normalize("NFKC", r.question).lower()
    # or the noun whose change is asked (收入 in 收入涨了多少); not the doer of another verb (政府给多少)
    attribute = asked_attribute(question, when_where=True) or (_asked_noun(question) if _CHANGE_ASKED.search(question)
                                                               else "")
    cut = [(w.strip(), f) for w, f in _pos_cut(question)]
    flags = dict(cut)
    if not attribute or flags.get(attribute) != "n" or any(ch in sent for ch in attribute):
        return []
    measure = asked_measure(r.question)
    if measure is not None and measure[2].search(sent):
        return []
    words = [w for w, _ in cut]
    at = words.index(attribute)
    said = attribute  # with the noun before it when the sentence lacks that too: 存储规模
    if at and flags.get(words[at - 1]) == "n" and words[at - 1] not in sent:
        said = words[at - 1] + attribute
    return [Unmet("subject", said)]


_CLAUSE = re.compile(r"[,，;；。:：!！?？]")
_CN_FIGURE = re.compile(r"[一二三四五六七八九十百千万亿两半]+[\u4e00-\u9fff]")  # 五层, 三朝, 两成: a number in words


def _asked_noun(question: str) -> str:
    """The noun right before the asking words, across up to two verbs or adverbs (利用率 in 利用率具体达到了多少, 规模 in
    规模是多少), or "" (a name; a noun after the asking words, 多少座车站; a count in 几, 几层)."""
    from bot.extractive import GENERIC

    cut, spots = _asking(question)
    words = [w for w, _ in cut]
    for i, asking in spots:
        if "几" in asking:
            return ""  # 站共有几层: 几 counts a thing of its own (层), the noun before is the subject
        if not _ASKS.match(words[i - 1]):
            nouns = [w for w, f in _rest_of_clause(cut, i) if f.startswith("n")]
            # 设了多少座车站: what follows the asking words is counted; not the count's measure word alone (门类的有
            # 多少项: jieba tags 项 a noun, the 门类 are what is counted)
            if nouns and not (len(nouns) == 1 and nouns[0] in {count.unit for count in asked_units(question)}):
                return ""
            for word, flag in reversed(cut[max(0, i - 3):i]):
                if (flag.startswith("n") and not flag.startswith(_NAMES) and len(word) >= 2 and is_cjk(word)
                        and word not in GENERIC):
                    return word
                if not flag.startswith(("v", "d", "a", "u", "p")):
                    return ""
            return ""
    return ""


def _attribute_without_figure(r: Ranking, sent: str) -> list[Unmet]:
    """What the question asks a number of (利用率 in 利用率达到了多少) is named by the sentence, but no clause that names it,
    nor the clause after, states a number the question did not: "覆盖全国45座城市,综合资源利用率大幅提升" says the
    rate rose, not what it is (资料未提及“利用率的具体数值”)."""
    from bot.extractive import _has_new_number

    if not r.wants_number:
        return []
    attribute = _asked_noun(r.question)
    if not attribute or attribute not in sent:
        return []
    clauses = _CLAUSE.split(sent)
    spots = [i for i, c in enumerate(clauses) if attribute in c]
    near = ["".join(clauses[i:i + 2]) for i in spots]
    if any(_has_new_number(text, r.question) or _CN_FIGURE.search(text) for text in near):
        return []
    return [Unmet("unit", f"{attribute}的具体数值")]


def _kin_words(word: str, sent: str) -> list[int]:
    """Where ``sent`` has a word of two or more characters that begins as ``word`` does: 增长 for 增速."""
    from bot.extractive import _pos_cut

    out, pos = [], 0
    for w, _ in _pos_cut(sent):
        if len(w.strip()) >= 2 and w.strip()[0] == word[0]:
            out.append(pos)
        pos += len(w)
    return out


def _absent_names(r: Ranking) -> list[Unmet]:
    """An organisation's name (国家自然科学基金, jieba's nt) that no retrieved passage writes: the corpus never indexed
    it as a word either, and the words it shares with a passage (国家, 自然, 科学 of 国家自然科学奖) do not make it the same
    thing.  Other names are left to the must-terms: a person's or place's name is often transliterated otherwise
    (measured on CMRC, docs/answerability.md)."""
    from bot.extractive import _pos_cut

    passages = [normalize(c.page_content) for c in r.chunks]
    by_text = {t.text: t for t in r.terms}
    out = []
    for word, flag in _pos_cut(unicodedata.normalize("NFKC", r.question).lower()):
        word = word.strip()
        term = by_text.get(word)
        if (term is not None and len(word) >= 3 and is_cjk(word) and flag == "nt" and not term.must
                and not any(word in p for p in passages)):
            out.append(Unmet("subject", word))
    return out


_NEGATIONS = ("不是", "并非", "并不是", "没有", "还没有", "还没", "尚未", "没", "未", "无", "非")


def _affirmed(sent: str, spots: list[int]) -> bool:
    """Whether no negation stands just before any of the sentence's ``spots`` (the condition is set, not denied)."""
    return all(not any(n in sent[max(0, k - 4):k] for n in _NEGATIONS) for k in spots)


def _negated_condition(r: Ranking, sent: str) -> list[Unmet]:
    """A condition the question denies that the sentence sets (我是个人，不是企业 — 对…的企业给予; 还没出成果 — 项目成果
    …落地的): what the sentence grants does not apply.  The negation is a word of its own (not the 无 of 无机), not
    what is asked (谁不是, 哪些企业不是); the content word after it (past one verb character: 没出成果) must be in the
    sentence with no negation of its own just before it."""
    from bot.crosslingual import kin
    from bot.extractive import _ASKING, _pos_cut

    question = unicodedata.normalize("NFKC", r.question).lower()
    tagged = _pos_cut(question)
    cut = [w for w, _ in tagged]
    out = []
    for i, (word, flag) in enumerate(tagged):
        # a negation, or one joined with its verb (没出 of 还没出成果)
        denies = word in _NEGATIONS or (len(word) == 2 and word[0] in "没未" and flag == "v")
        if not denies or any(_ASKING.search(w) for w in cut[max(0, i - 2) : i]):  # 谁不是, 哪些企业不是: asked
            continue
        j = i + 1
        if j + 1 < len(tagged) and len(cut[j]) == 1:  # 没出成果: past the verb character
            j += 1
        if j >= len(tagged) or len(cut[j]) < 2 or not is_cjk(cut[j]):
            continue
        denied = cut[j]
        if j + 1 < len(tagged) and len(cut[j + 1]) == 1 and tagged[j + 1][1].startswith(("n", "k")):
            denied += cut[j + 1]  # 生产方, not 生产: the party, which 生产成本 does not name
        said = denied
        if denied not in sent:
            # the sentence's word for it: one sharing a specific English gloss (不是牵头的 — 对主导制订…的企业, "lead")
            denied = next((w for w, _ in _pos_cut(sent) if len(w) >= 2 and w not in question and kin(denied, w)), "")
            if not denied:
                continue
        spots = [m.start() for m in re.finditer(re.escape(denied), sent)]
        if _affirmed(sent, spots):
            out.append(Unmet("subject", "".join(cut[i:j]) + said + "的情形"))  # 资料未提及“不是企业的情形”
    return out


_ORDER_NUMBER = r"[一二三四五六七八九十百\d]+"
# a place in an order the question denies: 没排进前五, 未进入前三名, 前二十名以外
_DENIED_RANK = re.compile(rf"(?:没|未|不)(?:能|有)?(?:排|进|入|在|排进|进入|排入|排在|列入)?(前{_ORDER_NUMBER})[名位强]?"
                          rf"|(前{_ORDER_NUMBER})[名位强]?(?:以外|之外|以后|之后)")
# a threshold the question says is not reached: 占比不到50%, 收入未达到5000万元
_BELOW = re.compile(r"(?:不到|不足|低于|少于|未达到?|未满|不满|未突破|没到|没达到|没有达到|没有突破|没突破)\s*(\d+(?:\.\d+)?)(?:\s*[万亿]?\s*(?:%|元|个|家|项|名|人))?")


# a share the question states (一半, 七成, 百分之四十, 45%) and a bound the sentence sets on one (60%以上, 不低于30%)
_SHARE = re.compile(r"(?<![不未没低少])(一半|半数|[一二三四五六七八九]成(?![员功为立本果绩都熟就交])|百分之[一二三四五六七八九十]+"
                    r"|(?<![\d.])\d+(?:\.\d+)?\s*%)")
_SHARE_BOUND = re.compile(r"(超过|突破|达到|达|不低于|不少于|高于|低于|不超过|不足|不到|少于)?\s*(?<![\d.])(\d+(?:\.\d+)?)\s*%"
                          r"\s*(及以上|以上|及以下|以下|以内)?")
_AT_LEAST = ("超过", "突破", "达到", "达", "不低于", "不少于", "高于", "及以上", "以上")


def _percent(share: str) -> float:
    """A share as a percentage: 一半 → 50, 七成 → 70, 百分之四十 → 40, 45% → 45."""
    if share in ("一半", "半数"):
        return 50.0
    if share.endswith("成"):
        return float(in_digits(share[0])) * 10
    return float(in_digits(share.removeprefix("百分之")).rstrip("% "))


def shares(word: str) -> str:
    """A share written in words as its percentage's digits (六成 → "60", 一半 → "50"); "" for any other word."""
    if not _SHARE.fullmatch(word):
        return ""
    value = _percent(word)
    return str(int(value)) if value == int(value) else str(value)


def _percent_bounds(sent: str) -> list[tuple[float, bool]]:
    """The bounds the sentence sets on a share: (60.0, True) for 60%以上, (30.0, False) for 不超过30%."""
    out = []
    for before, value, after in _SHARE_BOUND.findall(sent):
        if before or after:
            out.append((float(value), (after or before) in _AT_LEAST))
    return out


def meets_share_bound(share: str, sent: str) -> bool | None:
    """Whether a share the question states meets a bound the sentence sets on a share (七成 meets 60%以上; 一半 does
    not); None when the sentence sets none."""
    limits = _percent_bounds(sent)
    if not limits:
        return None
    value = _percent(share)
    return any(value >= b if at_least else value <= b for b, at_least in limits)


def _share_outside_bound(question: str, sent: str) -> list[Unmet]:
    """A share the question states (AI业务只占一半, 占了四成) that a bound of the sentence excludes (占比60%以上的企业):
    what the sentence grants does not apply.  A share said to fall short (不到60%) is ``_denied_threshold``'s."""
    return [Unmet("bound", f"{m.group()}的情形") for m in _SHARE.finditer(question)
            if meets_share_bound(m.group(), sent) is False]


def _denied_threshold(r: Ranking, sent: str) -> list[Unmet]:
    """A place in an order or a threshold the question says is not reached, which the sentence sets as the condition
    (没排进前五 — 前五名给予…; 占比不到50% — 占比50%以上的企业): what the sentence grants does not apply."""
    question = unicodedata.normalize("NFKC", r.question).lower()
    text = in_digits(sent)  # 前五 and 前5 alike
    out = []
    for m in _DENIED_RANK.finditer(question):
        if in_digits(m.group(1) or m.group(2)) in text:
            out.append(Unmet("subject", f"{m.group()}的情形"))
    for m in _BELOW.finditer(question):
        n = re.escape(m.group(1))
        if re.search(rf"(?<![\d.]){n}\s*(?:万|亿)?\s*(?:%|元|个|家|项|名|人)?\s*(?:及)?以上|(?:超过|突破|达到|不低于|高于)[^，。；,;]{{0,8}}?(?<![\d.]){n}(?![\d.])", text):
            out.append(Unmet("subject", f"{m.group()}的情形"))
    return out


# an English question's place in an order ("ranks 15th") or one outside the top ("not in the top ten")
_EN_PLACE = re.compile(r"\b(?:rank(?:s|ed|ing)?|plac(?:e|es|ed|ing)|finish(?:es|ed|ing)?|comes?|came)\s+(?:only\s+|just\s+)?"
                       r"(\d+)(?:st|nd|rd|th)\b", re.I)
_EN_OUTSIDE = re.compile(r"\b(?:outside|not\s+in|not\s+among|out\s+of|beyond)\s+the\s+top\s+(\d+|[a-z]+)\b", re.I)
_EN_NUMBERS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_TOP = re.compile(r"前(\d+)[名位强]?")


# a place in an order a Chinese question gives: 排第十五名, 位列第12位, 第十一至第二十名
_ZH_PLACE = re.compile(rf"(?:排名|排在|排|位列|名列|位居|列)?第({_ORDER_NUMBER})(?:\s*(?:至|到|~|-|—)\s*第?({_ORDER_NUMBER}))?\s*[名位]")


def _place_outside(r: Ranking, sent: str) -> list[Unmet]:
    """A place a Chinese question gives (排第十五名, 第十一至第二十名) that is not among the first places the sentence
    sets as the condition (前十名给予…): what the sentence grants does not apply; the twin of
    ``_english_place_outside``."""
    tops = [int(n) for n in _TOP.findall(in_digits(sent))]
    if not tops:
        return []
    question = unicodedata.normalize("NFKC", r.question)
    out = []
    for m in _ZH_PLACE.finditer(question):
        first = in_digits(m.group(1))
        if first.isdigit() and all(int(first) > top for top in tops):
            out.append(Unmet("subject", f"{m.group()}的情形"))
    return out


def _english_place_outside(r: Ranking, sent: str) -> list[Unmet]:
    """A place an English question gives ("ranks 15th", "outside the top ten") that is not among the first places the
    sentence sets as the condition (前十名给予…): what the sentence grants does not apply."""
    tops = [int(n) for n in _TOP.findall(in_digits(sent))]
    if not tops:
        return []
    out = []
    for m in _EN_PLACE.finditer(r.question):
        if all(int(m.group(1)) > top for top in tops):
            out.append(Unmet("subject", m.group()))
    for m in _EN_OUTSIDE.finditer(r.question):
        word = m.group(1).lower()
        number = int(word) if word.isdigit() else _EN_NUMBERS.get(word)
        if number is not None and number in tops:
            out.append(Unmet("subject", m.group()))
    return out


# an amount asked per year against one granted once (一次性), and the other way round
_PER_YEAR = re.compile(r"每年|每一年|年均|每年度|年度累计|一年(?:最多|累计|总共|一共|能)|\b(?:per|each|every|a)\s+year\b|\bannual(?:ly)?\b",
                       re.I)
_ONE_OFF = re.compile(r"一次性|\bone-(?:off|time)\b|\blump[- ]sum\b", re.I)


# a total over all the years of a rule: "over the whole life of the measures", 整个有效期内, 几年加起来
_ALL_YEARS = re.compile(r"\b(?:over|across|during|for|in)\s+(?:the\s+)?(?:whole|entire|full)\s+(?:life|period|term|duration)\b"
                        r"|\ball\s+(?:the\s+)?years\b|\badding\s+up\b|\bin\s+total\s+over\b|\bover\s+(?:its|their)\s+lifetime\b"
                        r"|整个(?:政策)?(?:期间|有效期|周期|实施期)|有效期内(?:总共|一共|累计)|所有年份|历年(?:累计|加起来)|几年(?:加起来|累计|总共)",
                        re.I)


def _once_or_yearly(question: str, sent: str) -> list[Unmet]:
    """An amount asked per year (每年累计最多能获得多少, "per year") that the sentence grants once (一次性给予), or one
    asked as a one-off that the sentence gives per year, or a total over all the years of a rule ("over the whole
    life of the measures", 几年加起来) that the sentence caps per year: another amount."""
    asked_yearly, asked_once = _PER_YEAR.search(question), _ONE_OFF.search(question)
    yearly, once = _PER_YEAR.search(sent), _ONE_OFF.search(sent)
    if (every := _ALL_YEARS.search(question)) and yearly:
        return [Unmet("bound", every.group())]
    if asked_yearly and not asked_once and once and not yearly:
        return [Unmet("bound", asked_yearly.group())]
    if asked_once and not asked_yearly and yearly and not once:
        return [Unmet("bound", asked_once.group())]
    return []


_COMPARED = ("同比", "环比")
_NUM_START = re.compile(r"\d")


def _holder_before(words: list[tuple[str, str]]) -> tuple[str, str]:
    """The noun right before an asked word (past 同比/环比) and the noun before that, or "" for none: (用户, 数量) in
    用户数量同比增长."""
    nouns = [w for w, f in words if f.startswith(("n", "vn")) and len(w) >= 2 and is_cjk(w)]
    words = [w for w in words if w[0] not in _COMPARED]
    if not words or words[-1][0] not in nouns:
        return "", ""
    head = words[-1][0]
    modifier = words[-2][0] if len(words) >= 2 and words[-2][0] in nouns else ""
    return modifier, head


def _attribute_holder(r: Ranking, sent: str) -> list[Unmet]:
    """What the question asks of a measure it names right before the asked word (城市数量同比增长了多少) stated in the
    sentence right after the same measure of another thing (用户数量同比增长30%): the figure is that other thing's."""
    from bot.extractive import _pos_cut

    question = unicodedata.normalize("NFKC", r.question).lower()
    attribute = asked_attribute(question)
    if not attribute:
        return []
    cut = [(w.strip(), f) for w, f in _pos_cut(question)]
    at = next((i for i, (w, _) in enumerate(cut) if w == attribute), None)
    if at is None:
        return []
    modifier, head = _holder_before(cut[:at])
    if not head:
        return []
    if not modifier and len(head) >= 4:  # 城市数量 as one word: the measure is its last two characters
        modifier, head = head[:-2], head[-2:]
    hits = [m.start() for m in re.finditer(re.escape(attribute), sent)] or _kin_words(attribute, sent)
    others = []
    for hit in hits:
        clauses = re.split(r"[,，。;；:：!！?？]", sent[:hit])
        clause = clauses[-1]
        s_modifier, s_head = _holder_before([(w.strip(), f) for w, f in _pos_cut(clause)])
        if not s_head and len(clauses) > 1 and clause.strip() in _COMPARED:
            # 营业收入90亿元，同比增速超15%: a comparison with no subject of its own is the previous figure's
            number = _NUM_START.search(clauses[-2])
            measured = clauses[-2][: number.start()] if number else ""
            if not measured:
                return []
            s_modifier, s_head = _holder_before([(w.strip(), f) for w, f in _pos_cut(measured)])
            if s_head and s_head[0] != head[0] and not s_head.endswith(head) and head not in clauses[-2]:
                others.append(s_head)
                continue
            return []
        if not s_head:
            return []
        if s_head != head and s_head.endswith(head):  # jieba's one word 用户数量: 用户 of 数量
            s_modifier, s_head = s_head[: -len(head)], head
        # the same measure (数量) of another thing (用户, where 城市 was asked); another measure is left alone: the
        # noun before a verb is as often the doer (主犯被判, 陈某被判处) as what is measured
        if s_head != head or not modifier or not s_modifier or modifier in clause or s_modifier == modifier:
            return []
        others.append(s_modifier)
    return [Unmet("subject", f"{modifier}{head}{attribute}")] if others else []


# a part of a year: 上半年, 一季度, 前三季度, 1-11月, 前10个月; in English "first half", "Q3", "first nine months"
_YEAR_PART = (r"(?:上|下)半年|(?:第|前)?[一二三四1-4]季度|(?:1|一)?\s*[-–—~～至到]\s*(?:1[0-2]|[1-9]|[一二三四五六七八九十]{1,2})月(?:份)?"
              r"|前(?:1[0-2]|[1-9]|[一二三四五六七八九十]{1,2})个?月")
_PART_AFTER = re.compile(rf"^\s*年?\s*(?:{_YEAR_PART})")
_PART_ASKED = re.compile(rf"{_YEAR_PART}|\b(?:first|second|1st|2nd)\s+half\b|\bq[1-4]\b|\b(?:first|second|third|fourth)\s+quarter\b"
                         r"|\bfirst\s+\w+\s+months\b|\bmonths?\b|月|季|半年|年初|年底|年末|年中")


def _year_part(question: str, sent: str, years: set[str], *, cross: bool = False) -> list[Unmet]:
    """A year asked as a whole, answered only for a part of it: 2023年的产值 by "2023年上半年产值12.5亿元" — the sentence
    gives the first half, not the year (资料未提及“2023年全年”).  Fires when every mention of the year in the sentence is
    followed by a part of it (上半年, 一季度, 1-11月) and the question names no part of a year (nor a month)."""
    if not years or _PART_ASKED.search(question):
        return []
    out = []
    for year in sorted(years):
        spots = [m.end() for m in re.finditer(rf"(?<!\d){year}(?!\d)", sent)]
        if spots and all(_PART_AFTER.match(sent[e:]) for e in spots):
            out.append(Unmet("year", f"all of {year}" if cross else f"{year}年全年"))
    return out


def _other_year(r: Ranking, sent: str, years: set[str]) -> list[Unmet]:
    """A sentence that states two years' figures answers what the question asks of its subject only under the
    other year: 增速 asked for 2022年 of "2022年全市软件产业收入达到1200亿元，2023年上半年收入为700亿元，增速12%"
    ("2022年的增速").  Each year mention opens a segment that runs to the next; the words before the first year
    belong to every segment.  Fires only when every mention of the asked word is in another year's segment; a
    sentence without the word is read for the words that begin as it does (增速 / 同比增长)."""
    if not years:
        return []
    marks = [(m.start(), m.group()[:4], m.end()) for m in _SEGMENT.finditer(sent)]
    if len({y for _, y, _ in marks}) < 2:
        return []
    asked, said = _english_attribute(r, sent) if r.cross else (asked_attribute(r.question), "")
    if not asked:
        return []
    hits = [m.start() for m in re.finditer(re.escape(asked), sent)] or _kin_words(asked, sent)
    if not hits:
        return []
    ends = [p for p, _, _ in marks[1:]] + [len(sent)]
    for i in range(len(marks) - 2, -1, -1):
        if _JOINS.fullmatch(sent[marks[i][2]:ends[i]]):
            ends[i] = ends[i + 1]  # a span of years (2004年至2014年, 2021、2022年): one segment for all of them
    out = []
    for year in sorted(years):
        if not any(y == year for _, y, _ in marks):
            continue
        inside = [(p, e) for (p, y, _), e in zip(marks, ends, strict=True) if y == year]
        if all(h >= marks[0][0] and not any(p <= h < e for p, e in inside) for h in hits):
            out.append(Unmet("year", f"the {said} in {year}" if said else f"{year}年的{asked}"))
    return out


# what an English question asks of its subject: "growth rate" in "What was the growth rate of X in 2022?"
_EN_ATTRIBUTE = re.compile(r"^\s*(?:what|how\s+much|how\s+large|how\s+big)\s+(?:was|is|were|are)\s+the\s+"
                           r"((?:[a-z-]+\s+){0,2}?[a-z-]+)\s+(?:of|for|in)\b", re.I)


def _english_attribute(r: Ranking, sent: str) -> tuple[str, str]:
    """The Chinese word of the sentence that an English question's asked attribute translates to (增速 for "growth
    rate"), with the English words; ("", "") when the question asks none or the sentence has none of its words."""
    m = _EN_ATTRIBUTE.match(r.question)
    if not m:
        return "", ""
    words = m.group(1).lower().split()
    found = [v for t in r.terms if t.text.lower() in words for v in t.variants if len(v) >= 2 and v in sent]
    return (found[0], m.group(1)) if found else ("", "")


_HOLDER_KINDS = ("noun", "name", "person", "place", "org", "latin")


def _other_holder(r: Ranking) -> list[Unmet]:
    """What the question asks is stated for another thing of the same sort: Alpha机器人的身高 against "一台名为Alpha的
    机器人…，随后是两台身高1.5米的迎宾机器人".  The question names a thing (机器人) by a modifier (Alpha) that the sentence
    states, but in no clause that states the asked word (身高); there the thing is named after another word (迎宾).
    A question for a measure (Alpha机器人有多高) asks its word the sentence uses (身高); so does an English one ("How
    tall is the Alpha robot?"), of a thing named by a Latin-script modifier the sentence states and a noun it
    translates (robot: 机器人)."""
    from bot.answerability import BREAK, _kind, _words

    sentence = unicodedata.normalize("NFKC", r.best.text).lower()
    question = unicodedata.normalize("NFKC", r.question)
    if r.cross:
        measure = asked_measure(r.question)
        measured = measure[0] if measure else ""
        words = [w for w, name, _ in _measures() if measure and name == measure[1] and is_cjk(w[0]) and w in sentence]
        asked = words[0] if words else ""
        pairs = _latin_pairs(r, sentence)
    else:
        asked = asked_attribute(r.question)
        pairs = _named_pairs(question, sentence)
        measure = asked_measure(r.question)
        if measure and (not asked or any(asked in heads for _, heads, _ in pairs)):
            # Alpha机器人有多高: the words before 多高 are the thing; what is asked is its measure, as the sentence words it
            words = [w for w, name, _ in _measures() if name == measure[1] and is_cjk(w[0]) and w in sentence]
            asked = words[0] if words else asked
    if not asked or asked not in sentence:
        return []
    clauses: list[list[tuple[str, str, int]]] = [[]]
    for w in _words(sentence):
        if w[1] == BREAK:
            clauses.append([])
        else:
            clauses[-1].append(w)
    holding = [c for c in clauses if any(asked in w for w, _, _ in c)]
    out = []
    for mod, heads, thing in pairs:
        if asked in heads:
            continue
        elsewhere = True
        for clause in holding:
            words = [w for w, _, _ in clause]
            spots = [j for j, w in enumerate(words) if w in heads]
            if any(mod in w for w in words) or not spots or any(
                    j == 0 or _kind(clause[j - 1][0], clause[j - 1][1]) not in _HOLDER_KINDS for j in spots):
                elsewhere = False
                break
        if elsewhere:
            out.append(Unmet("subject", _english_asked(measured, thing) if r.cross else f"{thing}的{asked}"))
    return out


# the field a question ranks in: 在西部排第几, 在全省的排名, 排名全国第几
_RANK = r"(?:排名|排行|排|位列|位居|名列)"
_RANK_SCOPE = (re.compile(rf"在([\u4e00-\u9fff]{{2,6}}?)的?{_RANK}"), re.compile(rf"{_RANK}([\u4e00-\u9fff]{{2,6}}?)第几"))
_FIELD = re.compile(r"^全|^[东南西北中][东南西北]?部$|[省市县区国洲球界]$")  # a region: 全省, 西部, 亚洲, 世界
_ORDINAL = re.compile(r"第[一二三四五六七八九十百\d]+|前[一二三四五六七八九十百\d]+[名位]|首位|榜首|之首")
_CLAUSE_END = re.compile(r"[,，。;；:：]")  # where the clause of an ordinal begins


def _ranked_elsewhere(r: Ranking, sent: str) -> list[Unmet]:
    """A place in an order asked within a field (在西部排第几) that the sentence gives only within another
    (位列全国第五): every ordinal of the sentence lacks the field in the words before it, in its clause."""
    if r.cross:
        return []
    question = unicodedata.normalize("NFKC", r.question).lower()
    scope = next((m.group(1) for p in _RANK_SCOPE for m in [p.search(question)] if m), "")
    ordinals = list(_ORDINAL.finditer(sent))
    if not ordinals or not _FIELD.search(scope):
        return []
    core = scope[:-2] if scope.endswith("地区") and len(scope) > 3 else scope  # 中西部地区 is said 中西部 too
    for m in ordinals:
        clause = _CLAUSE_END.split(sent[: m.start()])[-1]
        if core in clause[-8:]:
            return []
    return [Unmet("place", f"{scope}排名")]


_RANK_WORDS = re.compile(rf"^(?:{_RANK}|居|位于|在|的|了|是|能|可以|可|排在|处于)$")
_RANK_FIELDS = ("全国", "国内", "世界", "全球")  # the field of a national ranking, not a measure ranked
_RANK_ASKED = re.compile(r"^(?:第几|第几名|第几位|多少名|多少位)$")


def _ranked_attribute(r: Ranking, sent: str) -> list[Unmet]:
    """A place in an order asked (第几) that the sentence does not give, or gives only for other measures than the
    one asked (规模排名全国第几; 综合实力居全国第6，增速位居全国第一): no ordinal's clause names the measure, or a word
    that begins as it does.  Likewise who holds a place the question names (产量排名全国第一的是哪个省): the sentence
    must give that place (第一, or 首位, 榜首) for that measure."""
    from bot.extractive import _pos_cut

    if r.cross:
        return []
    cut = [(w.strip(), f) for w, f in _pos_cut(unicodedata.normalize("NFKC", r.question).lower())]
    at = next((i for i, (w, _) in enumerate(cut) if _RANK_ASKED.match(w)), None)
    place = ""
    if at is None:
        at = next((i for i, (w, _) in enumerate(cut) if i and _ORDINAL.fullmatch(w)
                   and (_RANK_WORDS.match(cut[i - 1][0]) or cut[i - 1][0] in _RANK_FIELDS)), None)
        if at is None:
            return []
        place = cut[at][0]
    ordinals = [m for m in _ORDINAL.finditer(sent) if not place or _same_place(m.group(), place)]
    if not ordinals and not place:  # a place asked, none given (产业规模823亿元 for 规模全国排第几)
        return [Unmet("unit", "排名")]
    measure = ""
    for word, flag in reversed(cut[:at]):  # back over 排名, 全国, 在, 的 to the measure ranked
        if _RANK_WORDS.match(word) or _FIELD.search(word) or word in _RANK_FIELDS:
            continue
        if flag == "n" and len(word) >= 2:
            measure = word
        break
    if not measure:
        return []
    for m in ordinals:
        clauses = _CLAUSE_END.split(sent[: m.start()])
        clause = clauses[-1]
        if len(clauses) > 1 and re.match(rf"{_RANK}|居", clause):  # 规模为80亿元，位列全国第五: no subject of its own
            clause = clauses[-2] + clause
        if measure in clause or _kin_words(measure, clause):
            return []
    return [Unmet("subject", f"{measure}排名{place}")]


_WHO = re.compile(r"谁|哪位|哪一位|叫什么|什么名字|姓名|\bwho\b|\bname\b", re.I)


def names_office_holder(r: Ranking) -> bool:
    """The question asks who holds an office (研究院的院长是谁, "who is the director of …") and the best sentence
    names a person right after that office (院长李明介绍的情况显示, 董事长为张华): it answers, however little
    else of it the answer reader recognises as an answer."""
    from bot.answerability import _TITLE
    from bot.extractive import _pos_cut

    question = unicodedata.normalize("NFKC", r.question).lower()
    if not _WHO.search(question):
        return False
    if r.cross:  # the office's Chinese words, among the translations of the question's terms (manager: 经理)
        offices = {v for t in r.terms for v in t.variants if len(v) >= 2 and _TITLE.search(v)}
    else:
        offices = {w for w, f in _pos_cut(question) if f.startswith("n") and _TITLE.search(w)}
    words = _pos_cut(normalize(r.best.text))
    for i, (word, _) in enumerate(words):
        if _TITLE.search(word) and any(word.endswith(o) for o in offices):
            after = words[i + 1:i + 3]
            if after and after[0][0] in ("为", "是"):
                after = after[1:]
            if after and after[0][1].startswith("nr") and after[0][0] not in question:
                return True
    return False


_FIRST = ("第一", "首位", "榜首", "之首", "第1")


def _same_place(said: str, asked: str) -> bool:
    """Whether an ordinal the sentence states is the place the question names (第一 is also 首位, 榜首)."""
    return said == asked or (said in _FIRST and asked in _FIRST)


def _english_asked(measured: str, thing: str) -> str:
    """How tall the alpha robot is / the weight of the alpha robot: what an English question asks (its measure
    word, ``measured``, of ``thing``), in words."""
    return f"{measured} the {thing} is" if measured.startswith("how ") else f"the {measured} of the {thing}"


def _named_pairs(question: str, sentence: str) -> list[tuple[str, tuple[str, ...], str]]:
    """(modifier, the thing's words, the question's words) for each noun of the question right after a name or noun
    the sentence states: (alpha, 机器人) in alpha机器人身高多少."""
    from bot.answerability import BREAK, _kind, _words

    qwords = _words(question.lower())
    out: list[tuple[str, tuple[str, ...], str]] = []
    for i in range(1, len(qwords)):
        (mod, mflag, at), (head, hflag, hat) = qwords[i - 1], qwords[i]
        if (BREAK in (mflag, hflag) or not hflag.startswith("n") or len(head) < 2
                or _kind(mod, mflag) not in _HOLDER_KINDS or mod not in sentence):
            continue
        start = at
        for j in range(i - 2, -1, -1):  # a name of several words (alpha x)
            if qwords[j][1] != mflag:
                break
            start = qwords[j][2]
        out.append((mod, (head,), question[start:hat + len(head)]))
    return out


def _latin_pairs(r: Ranking, sentence: str) -> list[tuple[str, tuple[str, ...], str]]:
    """The English form of ``_named_pairs``: a Latin-script name the sentence states, then a noun it translates
    (alpha robot: 机器人 in "How tall is the Alpha robot?")."""
    tokens = re.findall(r"[a-z0-9][a-z0-9'-]*", unicodedata.normalize("NFKC", r.question).lower())
    by_text = {t.text: t for t in r.terms}
    out = []
    for i in range(1, len(tokens)):
        mod, head = tokens[i - 1], by_text.get(tokens[i])
        if head is None or not head.variants or not re.search(rf"(?<![a-z]){re.escape(mod)}(?![a-z])", sentence):
            continue
        start = i - 1
        while start > 0 and re.search(rf"(?<![a-z]){re.escape(tokens[start - 1])}(?![a-z])", sentence):
            start -= 1
        out.append((mod, tuple(head.variants), " ".join(tokens[start:i + 1])))
    return out


BOUNDS_PATH = Path(__file__).parent.parent / "data" / "bounds.tsv"


@lru_cache(maxsize=1)
def bounds() -> list[tuple[str, str, re.Pattern[str], re.Pattern[str]]]:
    """(bound, what it bounds, how a question asks it, how a sentence states it) from ``bot/data/bounds.tsv``."""
    words = lambda cell: "|".join(_bound_word(w) for w in cell.split("|"))
    return [(name, kind, re.compile(words(asked), re.I), re.compile(words(stated)))
            for name, kind, asked, stated, *_ in read_table(BOUNDS_PATH)]


def asks_bound(word: str) -> bool:
    """Whether an English word asks for a bound (maximum, minimum, cap, deadline): the bound check reads it against
    the sentence's bound, so it is not looked for as a word."""
    return any(ask.fullmatch(word) for _, _, ask, _ in bounds())


_HOW_MANY = re.compile(r"\bhow many ((?:[a-z][a-z'-]* ){0,3}?)((?![a-z]+ly\b)[a-z][a-z'-]*)(?= (?:[a-z]+ly )?(?:did|do|does|are|is|were|was|have|has|had|"
                       r"will|can|could|would|should|in|of|at|for|on|across|from|with|around|throughout|within|among|"
                       r"under|over|by|to|that|which|who|[a-z]+ed|receive|get|use|take|apply|join|attend|win|hold|serve)\b"
                       r"|\s*[?.]?$)", re.I)


# The levels of government in English (the PRC's administrative hierarchy, as the Chinese level words of
# ``bot.answerability._LEVEL``) with the Chinese that states each, and the Chinese that states some level explicitly
_EN_LEVELS = {"international": "国际", "national": "国家|全国|中央", "state-level": "国家|中央",
              "provincial": "省", "municipal": "市", "city-level": "市", "county-level": "县", "district-level": "区"}
_EN_LEVEL = re.compile(r"\b(" + "|".join(map(re.escape, _EN_LEVELS)) + r")(?:-level)?\b", re.I)
_ZH_LEVEL = re.compile(r"国际|国家|全国|中央|[省市县区]级")


def _english_level(r: Ranking, sent: str) -> list[Unmet]:
    """A level of government an English question sets (provincial-level, national) that the sentence does not state
    while it states another: "a provincial-level award" is not answered by 对获得国家级称号的企业给予奖励."""
    out = []
    for m in _EN_LEVEL.finditer(r.question):
        forms = _EN_LEVELS[m.group(1).lower()]
        if _ZH_LEVEL.search(sent) and not re.search(forms, sent):
            out.append(Unmet("place", m.group()))
    return out


_PROVINCE_WORDS = frozenset({"省", "省级", "省里", "全省", "省内", "本省"})
_OTHER_LEVEL = re.compile(r"国际|国家|全国|中央|[市县区]级|市政府|市委|在蓉|本市|全市")


def _province_level(r: Ranking, sent: str) -> list[Unmet]:
    """The province as the level of government a question sets (省科技进步奖, 省里还能给多少, 四川省对…给予多少) against a
    sentence that states another level (国家科学技术奖, 本市) and no province: the sentence's rule is not the province's.
    A province named before its city (浙江省杭州市) is an address, not a level.  (On CMRC 2018 dev and RGB, none of
    the 11 right-answer sentences to a question that names a province fires.)"""
    from bot.extractive import _pos_cut

    if "省" in sent or not _OTHER_LEVEL.search(sent):
        return []
    cut = [(w.strip(), f) for w, f in _pos_cut(unicodedata.normalize("NFKC", r.question).lower())]
    for i, (word, flag) in enumerate(cut):
        named = len(word) >= 2 and word.endswith("省") and flag == "ns"
        if (word in _PROVINCE_WORDS or named) and not (named and i + 1 < len(cut) and cut[i + 1][1] == "ns"):
            return [Unmet("place", word)]
    return []


_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
_EN_HALF = re.compile(r"\b(first|second|latter|last)\s+half\b", re.I)


# a condition an English question denies: "not leading", "(not a company)", "without being listed"
_EN_NOT = re.compile(r"\b(?:not|never|without)\s+(?:yet\s+|being\s+|been\s+|having\s+)?(?:a\s+|an\s+|the\s+)?([a-z][a-z-]{2,})",
                     re.I)
_EN_NOT_SKIP = frozenset("more less only just exceed exceeding over under any all yet even much many including "
                         "counting mentioned stated given said specified".split())
_EN_YES_NO = re.compile(r"\s*(?:is|are|was|were|does|do|did|can|could|will|would|should|has|have|had)\b", re.I)


def _english_negated(r: Ranking, sent: str) -> list[Unmet]:
    """A condition an English question denies ("taking part in, but not leading", "an individual (not a company)")
    that the sentence sets, in the Chinese its term translates to (主导, 企业), with no negation of its own just before
    it: what the sentence grants does not apply.  A yes-or-no question asks about the denial itself."""
    if _EN_YES_NO.match(r.question):
        return []
    out = []
    for m in _EN_NOT.finditer(r.question):
        word = m.group(1).lower()
        term = next((t for t in r.terms if t.text.lower() == word), None)
        if word in _EN_NOT_SKIP or term is None:
            continue
        spots = [k.start() for v in term.variants if len(v) >= 2 for k in re.finditer(re.escape(v), sent)]
        if spots and _affirmed(sent, spots):
            out.append(Unmet("subject", m.group()))
    return out


def _english_half(r: Ranking, sent: str) -> list[Unmet]:
    """A half-year an English question names ("the second half of the year") against a sentence that states only
    the other one (上半年 for the first half, 下半年 for the second)."""
    m = _EN_HALF.search(r.question)
    if m is None:
        return []
    asked, other = ("上半年", "下半年") if m.group(1).lower() == "first" else ("下半年", "上半年")
    return [Unmet("year", m.group())] if other in sent and asked not in sent else []


def _chinese_in_english(r: Ranking, near: str) -> list[Unmet]:
    """A Chinese term an English question writes out ("culture vouchers (文旅券)") names the exact thing meant: the
    sentence, its heading or the sentence before must use it, not one that shares a piece of it (消费券)."""
    return [Unmet("subject", run) for run in dict.fromkeys(_CJK_RUN.findall(normalize(r.question))) if run not in near]


def _english_modifier(r: Ranking, sent: str, chunk: str) -> list[Unmet]:
    """A word an English question puts right before one the sentence says ("shipbuilding industry": 产业) that the
    dictionary translates but the corpus never uses (造船): the sentence is about another industry (纺织产业), as
    the Chinese modifier check reads 地方标准 against 国家标准.  Only such a word: a known one may be worded otherwise
    by the sentence, one the dictionary lacks may be a name or a compound it does not hold."""
    from bot.crosslingual import dictionary_translations
    from bot.extractive import asked_for_en

    by_text = {t.text: t for t in r.terms}
    pairs = [(said, forms) for forms, _, said in _qualified(r)]
    qualified = {said for said, _ in pairs}
    # and before the thing asked for, said or not: "what is the validity period" is not answered without 有效期
    asked = asked_for_en(r.question)
    pairs += [(f"{a} {b}", dictionary_translations(a)) for a, b in itertools.pairwise(english_words(r.question))
              if b in asked and a in by_text and f"{a} {b}" not in qualified]
    out = []
    for said, forms in pairs:
        modifier = by_text[said.split()[0]]
        if asks_bound(modifier.text):
            continue  # maximum, minimum, actual: the bound check reads them
        # jieba may cut the translation otherwise than the dictionary writes it: not in the chunk's text either
        # nor half of one in the sentence: 最多 (maximum) may be the sentence's 最高, 大 (large) its 大型
        if (forms and modifier.oov and not modifier.variants and not any(len(f) >= 2 and f in chunk for f in forms)
                and not any(2 * sum(c in sent for c in f) >= len(f) for f in forms)):
            out.append(Unmet("modifier", said))
    return out


_HOW_MANY_PEOPLE = re.compile(r"\bhow many (?:people|persons|attendees|participants|visitors|spectators|guests|delegates)\b",
                              re.I)
_COUNT_OF_PEOPLE = re.compile(rf"{_NUMERAL}{_MAGNITUDE}\s*(?:人|名|位|人次)")


# a number that counts: one not followed by a currency, a percentage or a date's unit (835家, 7部门, 45座, 三方面)
_COUNT_STATED = re.compile(rf"(?<![\d.])\d+(?:\.\d+)?{_MAGNITUDE}\s*(?![\d.,]|[万亿千百]*\s*(?:元|块|美元|%|％|年|月|日|号|点|时))|[一二三四五六七八九十两]+[个项家名位座方类种条批]")
# what "how many" may count in money, shares or time themselves
_NOT_COUNTED = frozenset("yuan dollars euros percent percentage years months days times".split())


# an English question that asks for a place in an order: "where did X rank", "what rank", "ranked where"
_ASKS_RANK_EN = re.compile(r"\bwhere\b[^?,;]*\brank(?:ed|s)?\b|\bwhat (?:rank|ranking|place)\b|\brank(?:ed)? where\b",
                           re.I)


def _english_rank(r: Ranking, sent: str) -> list[Unmet]:
    """The English side of the ranking check: a place asked ("where did the AI industry rank nationally") needs an
    ordinal in the sentence (第七, 前十名, 首位); a sentence that only gives the size does not answer it."""
    if not _ASKS_RANK_EN.search(unicodedata.normalize("NFKC", r.question)) or _ORDINAL.search(sent):
        return []
    return [Unmet("unit", "rank")]


def _english_count(r: Ranking, near: str) -> list[Unmet]:
    """What an English question counts ("how many AI companies") must be named by the sentence (one of the noun's
    translations), as the Chinese unit check asks 多少家企业 to be stated in 家: a sentence about the industry's size
    does not count its companies."""
    question = unicodedata.normalize("NFKC", r.question)
    people = _HOW_MANY_PEOPLE.search(question)
    if people:  # counted in the measure words for persons, which the dictionary's words for people are not
        return [] if _COUNT_OF_PEOPLE.search(near) else [Unmet("unit", people.group().lower())]
    m = _HOW_MANY.search(question)
    if m is None:
        return []
    noun = m.group(2).lower()
    said = f"how many {(m.group(1) + m.group(2)).strip()}"
    if noun not in _NOT_COUNTED and not _COUNT_STATED.search(normalize(r.best.text)):
        return [Unmet("unit", said)]  # "how many companies" is not answered by 1000万元 or a date alone
    term = next((t for t in r.terms if t.text == noun), None)
    if term is None or not term.variants or any(v in near for v in term.variants):
        return []
    return [Unmet("unit", said)]


# an item of an enumeration: the text between list commas (、), or joined to the last by 以及/和/及/与
_ENUMERATION = re.compile(r"[^，。；;,、:：]+(?:、[^，。；;,、:：]+)+")
_LAST_ITEM = re.compile(r"以及|和|及|与")
_ITEM_FIGURE = re.compile(r"\d|[一二三四五六七八九十百千万两]+[个项类种家名所条件次位座]")  # 146项, 三个阶段


def _count_of_listed_item(r: Ranking, sent: str) -> list[Unmet]:
    """A count asked of one thing the sentence names only as an item of a list without a figure of its own: "涉及养老
    服务的项目有多少个" against "目录共收录80个项目，其中新建项目52个，涵盖教育、医疗、养老以及文化等多个领域": the
    figures are the list's, not elderly care's.  Exactly one of the question's words must be such an item (a question
    naming several items asks of the list as a whole).  Only a count (多少项, how many): an amount may be given for
    each item in turn (金奖、银奖、铜奖分别奖励5万元、3万元、1万元)."""
    counted = _HOW_MANY.search(unicodedata.normalize("NFKC", r.question)) if r.cross else asked_units(r.question)
    if not r.wants_number or not counted or "分别" in sent:
        return []
    spans = []
    for m in _ENUMERATION.finditer(sent):
        at = m.start()
        for piece in m.group().split("、"):
            for item in _LAST_ITEM.split(piece):
                start = sent.index(item, at) if item else at
                spans.append((start, start + len(item), item))
            at += len(piece) + 1
    listed = []
    for t in r.terms:
        forms = [f for f in (t.variants or (t.text,)) if len(f) >= 2]
        hits = [(m.start(), f) for f in forms for m in re.finditer(re.escape(f), sent)]
        # every mention an item of its own (the word and a few characters more: 养老服务), stating no figure
        if hits and all(any(a <= h < e and len(item) <= len(f) + 4 and not _ITEM_FIGURE.search(item)
                            for a, e, item in spans) for h, f in hits):
            listed.append(t.text)
    return [Unmet("subject", f"{listed[0]}的数量" if not r.cross else f"the number for {listed[0]}")] if len(listed) == 1 else []


# an amount asked for each one of something (每家企业, 单个项目, 一家企业每年最多); a sentence that gives a total
_EACH_UNIT = "家|个|名|位|项|户|所|张|份|笔|件|台|套"
_EACH = re.compile(rf"(?:(?:每一?|单个)(?:{_EACH_UNIT})?|(?<![头第唯其这那哪任另同])一(?:{_EACH_UNIT}))(?![年月日天周次])([\u4e00-\u9fff]{{2}})")
# the same in English: "a single company", "each company", "per company" (not "per year": a period is no one of them)
_EACH_EN = re.compile(r"\b(?:a single|each|per|every|one)\s+(?!(?:year|month|day|week|time)s?\b)([a-z][a-z-]+)", re.I)
_TOTAL = re.compile(r"总额|总量|总计|合计|总共|共计|总规模")
_FOR_ONE = re.compile(rf"每(?:{_EACH_UNIT})|单个|各")  # a sentence that gives an amount for one of anything


def _total_for_each(r: Ranking, sent: str) -> list[Unmet]:
    """An amount asked for each one (每家企业最多能领多少) that the sentence gives only as a total (每年发放总额不超过1000
    万元), naming no one of them (每家/单个/各 before the noun): not covered."""
    if not _TOTAL.search(sent):
        return []
    question = unicodedata.normalize("NFKC", r.question).lower()
    if r.cross:  # "a single company": the sentence must give an amount for one of anything (每家, 单个, 各)
        m = _EACH_EN.search(question)
        return [Unmet("subject", m.group())] if m and not _FOR_ONE.search(sent) else []
    for m in _EACH.finditer(question):
        noun = m.group(1)
        if noun in sent and not re.search(rf"(?:每|单个|各|单)(?:{_EACH_UNIT})?{re.escape(noun)}", sent):
            return [Unmet("subject", m.group())]
        if noun not in sent and not _FOR_ONE.search(sent):
            return [Unmet("subject", m.group())]
    return []


_CN_DIGITS = re.compile(r"[一二三四五六七八九十百千万亿两]")


def in_digits(text: str) -> str:
    """``text`` with its Chinese numerals in Arabic digits (``cn2an``): 第八 → 第8, 三十万元 → 30万元."""
    import cn2an

    with warnings.catch_warnings():  # cn2an warns about every fragment it leaves as it was (a lone 万)
        warnings.simplefilter("ignore")
        try:
            return str(cn2an.transform(text, "cn2an"))
        except (ValueError, KeyError, IndexError):
            return text


def _worded_quantities(question: str, near: str, years: set[str]) -> list[Unmet]:
    """A quantity the question writes in Chinese numerals (前二十名, 三十万元) must be the sentence's, whichever way the
    sentence writes it (前十名 is not 前二十名): both are read with ``cn2an`` and compared as numbers with their unit."""
    if not _CN_DIGITS.search(question):
        return []
    written = in_digits(question)
    arabic = {(n, m, u) for n, m, u in _QUANTITY.findall(question)}
    scale = {"": 1, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
    stated = {(round(float(n) * scale[m], 4), u) for n, m, u in _QUANTITY.findall(in_digits(near)) if u}
    out = []
    for m in _QUANTITY.finditer(written):
        num, mag, unit = m.groups(default="")
        # 哪两个, 第一个, 其中一个, 一次性: which, what place, a determiner — not an amount the question sets
        if ((num, mag, unit) in arabic or num in years or not unit or unit == "月" or (float(num) < 3 and not mag)
                or re.search(r"(?:哪|第|每|其中|这|那|任何|任)$", written[: m.start()])):
            continue
        if (round(float(num) * scale[mag], 4), unit) not in stated:  # 六十万元 is 60万元 and 600000元
            said = next((w.group() for w in re.finditer(rf"[零〇一二三四五六七八九十百千万亿两]+\s*{re.escape(unit)}", question)
                         if in_digits(w.group()).replace(" ", "") == f"{num}{mag}{unit}"), f"{num}{mag}{unit}")
            out.append(Unmet("quantity", said))  # as the question words it: 二十名
    return out


def _bound_word(word: str) -> str:
    """A bound word as a pattern: English as a whole word; 以上/以下/以内 only after an amount (5人以上, not 以下简称)."""
    if word.isascii():
        return rf"\b{re.escape(word)}\b"
    if word.startswith("以"):
        return rf"(?<=[\d〇零一二三四五六七八九十百千万亿两元人个名家项年岁%])\s*{re.escape(word)}"
    return re.escape(word)


def _other_bound(r: Ranking, sent: str) -> list[Unmet]:
    """The bound asked (最低是多少, "minimum") is not the one the sentence states (最高250万元): not covered.  A
    sentence that states no bound, or both, is left to the other checks."""
    from bot.extractive import _pos_cut

    question = unicodedata.normalize("NFKC", r.question)
    # a bound word inside a name is none (最高人民法院, 最高峰): a Chinese word must be a word of its own, a phrase
    # (什么时候开始) may span several
    words = set() if r.cross else {w.strip() for w, _ in _pos_cut(question.lower())}
    rows = bounds()
    asked = [(name, kind) for name, kind, ask, _ in rows
             if any(r.cross or len(m.group()) >= 4 or m.group() in words for m in ask.finditer(question))]
    if len(asked) != 1:
        return []
    name, kind = asked[0]
    stated = {n for n, k, _, state in rows if k == kind and state.search(sent)}
    if name in stated or not stated:
        return []
    english = {"最低": "minimum", "最高": "maximum", "实际": "actual amount", "开始": "start", "截止": "deadline"}
    return [Unmet("bound", english.get(name, name) if r.cross else name)]


OPPOSITES_PATH = Path(__file__).parent.parent / "data" / "opposites.tsv"
_WORD_FLAGS = ("n", "v", "a", "j", "b", "s")  # content words: nouns, verbs, adjectives, abbreviations, 区别词, places


@lru_cache(maxsize=1)
def _opposites() -> frozenset[tuple[str, str]]:
    pairs = {(a, b) for a, b, *_ in read_table(OPPOSITES_PATH)}
    return frozenset(pairs | {(b, a) for a, b in pairs})


def _content_words(text: str) -> set[str]:
    from bot.extractive import _pos_cut

    return {w for w, f in _pos_cut(text) if len(w) >= 2 and is_cjk(w) and f.startswith(_WORD_FLAGS)}


_PARTICLE = re.compile(r"[吗嘛][?？!！。\s]*$")
_YES_NO = re.compile(_PARTICLE.pattern + r"|是否|能否|可否|可不可以|能不能|会不会|是不是|有没有|要不要|算不算|行不行")
# a question word: with one, a final 吗 or 嘛 is a particle (能拿多少钱嘛), not a yes-or-no question (好多: 多少 in
# south-western Mandarin)
_WH = re.compile(QUESTION_WORDS + "|好多|多重")


def asks_yes_no(question: str) -> bool:
    """A yes-or-no question (有效吗, 是否, 能不能): a sentence stating the opposite, or the case the question denies,
    answers it.  A final 吗 or 嘛 after a question word (能领多少钱嘛) is a particle."""
    question = unicodedata.normalize("NFKC", question)
    if _PARTICLE.search(question) and _WH.search(question):
        question = _PARTICLE.sub("", question)
    return bool(_YES_NO.search(question))


def _opposite_words(r: Ranking, sent: str) -> list[Unmet]:
    """A word the question asks about whose counterpart the sentence states instead: the same word with one
    morpheme swapped for its opposite (开幕式 asked, 闭幕式 stated; 女子 / 男子; 进口 / 出口), from bot/data/opposites.tsv."""
    question = unicodedata.normalize("NFKC", r.question).lower()
    asked = [w for w in _content_words(question) if w not in sent]
    stated = [w for w in _content_words(sent) if w not in question]
    opposites = _opposites()
    out = []
    for word in asked:
        for other in stated:
            if len(other) == len(word):
                differ = [(a, b) for a, b in zip(word, other, strict=True) if a != b]
                if len(differ) == 1 and differ[0] in opposites:
                    out.append(Unmet("subject", word))
                    break
    return out


FORMS_PATH = Path(__file__).parent.parent / "data" / "answer_forms.tsv"


@lru_cache(maxsize=1)
def _forms() -> list[tuple[str, re.Pattern[str], re.Pattern[str]]]:
    """(what is asked, its question words, the answer's form) from ``bot/data/answer_forms.tsv``."""
    out = []
    for name, words, form, *_ in read_table(FORMS_PATH):
        # asked for itself (电话是多少, 网址是什么, what is the phone number), not named in passing (在什么网站, 电话窃听)
        zh = "|".join(re.escape(w) for w in words.split("|") if not w.isascii())
        en = "|".join(re.escape(w) for w in words.split("|") if w.isascii())
        asked = (rf"(?:{zh})(?:号码|地址)?(?:是|为)?(?:多少|什么|啥|哪个)"
                 rf"|\bwhat(?:'s| is| are)\s+(?:the\s+|its\s+|their\s+)?(?:[a-z-]+\s+){{0,3}}(?:{en})\b")
        out.append((name, re.compile(asked, re.I), re.compile(form)))
    return out


def asked_form(question: str) -> tuple[str, re.Pattern[str], str] | None:
    """What a question asks for that has a written form of its own (电话 → a telephone number) with the question's
    word for it, or None."""
    q = unicodedata.normalize("NFKC", question).lower()
    return next(((name, form, m.group().split()[-1]) for name, asked, form in _forms() for m in [asked.search(q)] if m),
                None)


KINDS_PATH = Path(__file__).parent.parent / "data" / "answer_kinds.tsv"
# up to two words between which/what and the kind that qualify it (which Hangzhou company, which two counties): not a
# verb or article (what did the company …) and not a kind of its own (what type of company asks a type, not a name)
_EN_QUALIFIER = (r"(?!(?:kinds?|types?|sorts?|of|the|a|an|do|does|did|is|are|was|were|has|have|had|can|could|will|"
                 r"would|should|may|must)\b)[a-z][a-z'-]*")


@lru_cache(maxsize=1)
def _kinds() -> list[tuple[str, re.Pattern[str], str, tuple[str, ...], tuple[str, ...]]]:
    """(what is asked, its question words, a name of the kind (a pattern), jieba tags of names of the kind, its
    Chinese question words) from ``bot/data/answer_kinds.tsv``."""
    out = []
    forms: dict[str, str] = {}
    for name, words, cell, tags, *_ in read_table(KINDS_PATH):
        form = forms[name] = re.sub(r"\{([^\d,}][^}]*)\}", lambda m: forms[m.group(1)], cell)  # {部门}: that row's form
        zh = [w for w in words.split("|") if not w.isascii()]
        en = [re.escape(w) for w in words.split("|") if w.isascii()]
        # 哪个县, 哪些部门, 什么机构, 哪一家单位; which county, in what department (a row may have one language only)
        # and the thing of a list asked for (…的企业有哪些, 印发的部门是哪几个): a word of two characters or more
        listed = [re.escape(w) for w in zh if len(w) >= 2]
        asked = "|".join([*([rf"(?:哪|什么)[一几]?[个些家所座]?(?:{'|'.join(map(re.escape, zh))})"] if zh else []),
                          *([rf"(?:{'|'.join(listed)})(?=都?(?:有|是|包括)哪[些几])"] if listed else []),
                          *([rf"\b(?:which|what)\s+(?:{_EN_QUALIFIER}\s+){{0,2}}(?:{'|'.join(en)})s?\b"] if en else [])])
        out.append((name, re.compile(asked, re.I), form, tuple(t for t in tags.split() if t != "-"), tuple(zh)))
    return out


@lru_cache(maxsize=1)
def _kind_words() -> frozenset[str]:
    """The Chinese question words of every kind (城市, 公司, 部门 …)."""
    return frozenset(w for *_, zh in _kinds() for w in zh)


_REFERRING = "该全本各每此其同邻外一两几多"  # first characters of words that refer to one without naming it (该县, 全国)


@dataclass(frozen=True)
class Kind:
    """A kind of named thing a question asks which one of (``bot/data/answer_kinds.tsv``)."""

    name: str  # as the not-covered answer names it: 部门
    said: str  # the question's word for it: 哪个部门, department
    form: re.Pattern[str]  # a name of the kind: …局, …委员会
    tags: tuple[str, ...]  # jieba tags of words that name one too (nt)
    own: tuple[str, ...] = ()  # words that name one after a noun (企业: 软件企业)


def asked_kind(question: str) -> Kind | None:
    """The kind of named thing a question asks which one of (哪个县 → a name ending in 县), or None.

    A name ending in the question's own word (of two characters: not 全县) names one too: 应用单位 for 哪些单位,
    劳动行政部门 for 哪个部门, but not 医疗机构 for 哪个部门 (an English question's word may be any of the row's).
    Where jieba's tags name one (companies), only after a noun: 软件企业 is a kind of enterprise, 支持企业 (support
    enterprises) names none (``names_kind``)."""
    from bot.extractive import _pos_cut

    q = unicodedata.normalize("NFKC", question).lower()
    for name, asked, form, tags, zh in _kinds():
        m = asked.search(q)
        if m is None:
            continue
        kind = m.group()[-1]
        if kind in zh and any(w.startswith(kind) and len(w) > 1 and w[1] not in "内里份城级" for w, _ in _pos_cut(q)):
            continue  # a one-character kind as the start of another word: 什么区别 asks no district (哪个省内 does)
        own = tuple(w for w in zh if len(w) >= 2 and (m.group().endswith(w) or m.group().isascii()))
        if own and not tags:
            return Kind(name, m.group().split()[-1], _compiled(rf"{form}|[\u4e00-\u9fff]{{2}}(?:{'|'.join(own)})"), tags)
        return Kind(name, m.group().split()[-1], _compiled(form), tags, own)
    return None


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _quote(r: Ranking) -> str:
    """What the answer would quote: the best sentence, with the next when it runs on (a short sentence: 索莫尼是…的流通
    货币。由…国家银行发行。)."""
    from bot.extractive import asks_reason, quoted

    return normalize("".join(c.text for c in quoted(r.best, r.cands, reason=asks_reason(r.question))))


_RUN = re.compile(r"[\u4e00-\u9fff\w]+")
_ITEM_BEFORE = ("、", "包括", "例如", "比如", "如", ",", ":", "(")
_ITEM_AFTER = ("、", "等", ",", "。", ";", ")")


def _only_listed(question: str, sent: str) -> str:
    """The thing a kind question names (A平台 in "清单里的A平台是哪家企业开发的") when the sentence only lists it, an item
    of an enumeration by itself (包括A平台、B系统等): whoever is the answer, the sentence does not say it of that item.
    The thing is the question's longest run of four or more characters that the sentence states.  (On CMRC 2018 dev
    and RGB, none of the 73 right-answer sentences to a kind question lists the question's thing so.)"""
    text = _TITLE.sub("|", unicodedata.normalize("NFKC", question).lower())  # a 《title》 names the list, not the thing
    runs = (text[i:j] for i in range(len(text)) for j in range(i + 4, len(text) + 1))
    name = max((run for run in runs if _RUN.fullmatch(run) and run in sent), key=len, default="")
    if not name:
        return ""
    for m in re.finditer(re.escape(name), sent):
        before, after = sent[:m.start()], sent[m.end():]
        if (before.endswith(_ITEM_BEFORE) and after.startswith(_ITEM_AFTER)
                and (before.endswith("、") or after.startswith("、"))):
            return name
    return ""


def names_kind(sentence: str, question: str, kind: Kind, *, said: tuple[str, ...] = ()) -> bool:
    """Whether ``sentence`` names a thing of the kind that the question does not already name (``said``: the
    Chinese words an English question's terms stand for, which it names too)."""
    from bot.extractive import _pos_cut

    # both without spaces (Deep Blue is deepblue in either); a 《title》 names a work, not one of the kind
    sentence, q = _TITLE.sub("》", normalize(sentence)), normalize(question)

    def new(name: str) -> bool:  # 杭州市 is the question's 杭州 with its suffix
        return name not in q and not any(name in s or (name.startswith(s) and len(name) == len(s) + 1)
                                         for s in said if len(s) >= 2)

    if any(new(m.group()) for m in kind.form.finditer(sentence)):
        return True
    words = _pos_cut(sentence)
    # after a noun that does not refer (全国城市, 各类企业 name none)
    if any(w in kind.own and f0.startswith("n") and len(w0) >= 2 and w0[0] not in _REFERRING and new(w0 + w)
           for (w0, f0), (w, _) in itertools.pairwise(words)):
        return True
    # a kind's own word (城市, which jieba tags as a place name) is no name of one, nor a word in quotation marks
    # that jieba tags as a name (成为发展的“拦路虎”: a figure of speech)
    words = _pos_cut(_QUOTED_WORDS.sub("”", sentence)) if kind.tags else ()
    return any(f.startswith(kind.tags) and len(w) >= 2 and new(w) and w not in _kind_words() for w, f in words)


_QUOTED_WORDS = re.compile(r"“[^“”]{1,8}”")
_WEIGHT_ASKED = re.compile(r"多重(?=[?？。,，!！呢吗啊]|$)")
MEASURES_PATH = Path(__file__).parent.parent / "data" / "measures.tsv"


@lru_cache(maxsize=1)
def _measures() -> list[tuple[str, str, re.Pattern[str]]]:
    """(question word, what is asked, a number in one of its units) from ``bot/data/measures.tsv``, longest word first."""
    out: list[tuple[str, str, re.Pattern[str]]] = []
    for words, name, cell, *_ in read_table(MEASURES_PATH):
        units = {unicodedata.normalize("NFKC", u).lower() for u in cell.split()}  # m² and ㎡ as the text has them: m2
        alternatives = "|".join(re.escape(u) + ("(?![a-z])" if u.isascii() else "")
                                for u in sorted(units, key=len, reverse=True))
        number = re.compile(f"{_NUMERAL}(?:\\s*[~～至到\\-–—]\\s*{_NUMERAL})?{_MAGNITUDE}\\s*(?:{alternatives})")
        out.extend((w, name, number) for w in words.split("|"))
    return sorted(out, key=lambda m: -len(m[0]))


def _says(question: str, word: str) -> bool:
    return word in question if not word.isascii() else re.search(rf"\b{re.escape(word)}", question) is not None


def asked_measure(question: str) -> tuple[str, str, re.Pattern[str]] | None:
    """The measure a question asks for (多重 → 重量 and a number in 克/公斤/吨…), or None; only when it asks a number."""
    from bot.extractive import _WANTS_NUMBER

    q = unicodedata.normalize("NFKC", question).lower()
    weight = _WEIGHT_ASKED.search(q)  # 有多重? — 多重 before a noun means "multiple" (多重身份)
    if "倍" in q or not (_WANTS_NUMBER.search(q) or weight or "多久" in q):  # 体长是体高的多少倍: a ratio
        return None
    return next((m for m in _measures() if _says(q, m[0]) and (m[0] != "多重" or weight)), None)


def asked_units(question: str) -> list[Count]:
    """The counts a question asks for: 台 in 几台机器人, 年 in 免几年税, 平方公里 in 多少平方公里.

    Decided by jieba's tags: 几 merged with the next character into a numeral (几台/m), or 几/多少 followed by a
    measure word (q: 多少名, 多少公里) or a numeral (m: 多少万元 → 元, 多少辆车 → 辆), or by a one-character noun
    (多少人: *loose*, as 多少税 asks an amount, not a count of 税); 多少钱 asks for money (元/万/亿).  哪几 asks
    which, not how many, 几几年 a year, 几月/几号 and the like a date, 几年级 a school grade, and after a
    demonstrative or 近/前/后 (那几年, 近几年) 几 means "a few".  After 第 or 排 (第几届, 排多少名) the question asks
    a place in an order (*ordinal*).
    """
    from bot.extractive import A_FEW_AFTER, _pos_cut

    words = [(w.strip(), f) for w, f in _pos_cut(unicodedata.normalize("NFKC", question).lower())]
    out: dict[str, Count] = {}
    for i, (word, flag) in enumerate(words):
        nxt, nflag = words[i + 1] if i + 1 < len(words) else ("", "x")
        before = words[i - 1][0] if i else ""
        unit, said, loose, noun = "", word, False, nxt
        if word.startswith("几") and len(word) > 1 and flag == "m":
            unit = word[1:]
        elif word in ("几", "多少") and nxt and nflag[:1] in ("q", "m"):
            unit, said = nxt.lstrip("万亿千百十余多"), word + nxt
            noun = words[i + 2][0] if i + 2 < len(words) else ""
            if nflag[:1] == "m" and unit:
                unit = unit[:1]  # jieba joins a measure word with what follows (辆车, 首项)
                said, noun = word + nxt[: nxt.index(unit) + 1], nxt[nxt.index(unit) + 1 :] or noun
        elif word in ("几", "多少") and len(nxt) == 1 and nflag.startswith("n"):
            unit, said, loose, noun = nxt, word + nxt, nxt != "钱", ""
            after, aflag = words[i + 2] if i + 2 < len(words) else ("", "x")
            if aflag.startswith("n") and len(after) >= 2 and is_cjk(after):
                loose, noun = False, after  # 多少条措施: a measure word before what is counted, not a noun of its own
        elif word.startswith("多少") and len(word) > 2 and flag == "m":
            unit = word[2:]
        unit = unit.lstrip("万亿千百十余多")
        if (not unit or before.endswith(tuple(A_FEW_AFTER))
                or unit.startswith(("几", *_NOT_COUNTS)) or not all(is_cjk(ch) for ch in unit)):
            continue
        noun = noun if is_cjk(noun) and len(noun) >= 2 else ""
        out.setdefault(unit, Count(said, unit, loose, before.endswith(("第", "排")), noun))
    return list(out.values())


def states_count(text: str, count: Count | str) -> bool:
    """``text`` states a number followed by the asked unit (余/多/万/亿 may come between): 4台, 三万名, 20余年.

    A date year (2023年) is not a number of years; 钱 is an amount in 元/万/亿; a quantity in a symbol or Latin
    unit (40km, 23~28°c) may be the asked one written otherwise (米, 度); a loose count may drop its noun after a
    magnitude (网民规模10.51亿 for 多少人); the noun counted may stand for the classifier, which written Chinese often
    drops (三部门联合发文 for 几个部门); an ordinal is answered by 第N (位列第五 for 排多少名).
    """
    if isinstance(count, str):
        count = Count(count, count, False, False, "")
    unit = count.unit
    units = "|".join(_MONEY) if unit == "钱" else re.escape(unit)
    units += r"|[a-z°℃]"  # a percentage is a ratio, never the count asked for (多少个国家 is not 50%)
    if count.loose:
        units += "|(?<=[万亿])"
    if count.noun:
        units += "|" + re.escape(count.noun)
    if count.ordinal and re.search(f"第{_NUMERAL}", text):
        return True
    for m in re.finditer(f"{_NUMERAL}(?:\\s*[~～至到\\-–—]\\s*{_NUMERAL})?{_MAGNITUDE}\\s*(?:{units})", text):
        if unit == "年" and _YEAR_DATE.fullmatch(m.group()):
            continue  # 2023年, 1998至2008年: when, not how long
        return True
    return False


# the kinds a sentence lists before the thing they qualify: 国际、国家、行业 in 国际、国家、行业标准
_LISTED = re.compile(r"(?:[\u3400-\u9fff]{1,4}、)+[\u3400-\u9fff]{1,4}$")


def _unlisted_kinds(r: Ranking, sent: str) -> list[Unmet]:
    """A kind the question asks about that the sentence's own list of kinds leaves out: 地方标准 (local standards)
    against 对主导制订国际、国家、行业标准的企业.  The sentence names the thing (标准) right after a list of its kinds
    (two or more, joined by 、), and the question's qualifier of that thing is none of them — in Chinese the word
    just before it in the question, in English the word before its translation ("local" in "local standards",
    matched through all its dictionary translations).  Only listed kinds count: a sentence that names one kind, or
    none (最高250万元的资金补贴), sets no such limit.
    """
    out: list[Unmet] = []
    for variants, head, said in _qualified(r):
        if any(len(v) >= 2 and v + head in sent for v in variants):
            continue  # the sentence names the asked kind somewhere (嘉兴市政府 beside a list of 县政府)
        for m in re.finditer(re.escape(head), sent):
            listed = _LISTED.search(sent[: m.start()])
            # jieba may join the kind with the next word (省级重点 against 省级、市级重点实验室): either way round
            if listed and not any(v in item or (len(item) >= 2 and item in v)
                                  for v in variants for item in listed.group().split("、")):
                out.append(Unmet("kind", said))
                break
    return out


def english_words(question: str) -> list[str]:
    """An English question's words, lower case (hyphenated ones whole: large-model)."""
    return [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]*", question)]


def _qualified(r: Ranking) -> list[tuple[tuple[str, ...], str, str]]:
    """(the forms the qualifier may take in the sources, the thing qualified as the sentence writes it, the question's
    words) for each qualifier–noun pair of the question whose noun the best sentence names."""
    from bot.extractive import _pos_cut

    sent = normalize(r.best.text)
    pairs = []
    if r.cross:
        from bot.crosslingual import dictionary_translations

        by_text = {t.text: t for t in r.terms}
        for a, b in itertools.pairwise(english_words(r.question)):
            head = by_text.get(b)
            if a not in by_text or head is None:
                continue
            for v in head.variants:
                if v in sent:
                    pairs.append((dictionary_translations(a), v, f"{a} {b}"))
                    break
        return pairs
    words = [(w.strip(), f) for w, f in _pos_cut(unicodedata.normalize("NFKC", r.question).lower())]
    for (a, fa), (b, fb) in itertools.pairwise(words):
        # a name is not a kind (中国 in 中国电视…平台, a dynasty among its other names): names have their own checks
        if (len(a) >= 2 and len(b) >= 2 and fa.startswith(_MODIFIER_FLAGS) and not fa.startswith(_NAMES)
                and fb.startswith("n") and b in sent):
            pairs.append(((a,), b, a + b))
    return pairs


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
    for word, _flag in words:  # jieba joined the qualifier with the word it qualifies (省级重点)
        head = next((t.text for t in r.terms if word.endswith(t.text) and len(t.text) < len(word)), "")
        qualifier = by_text.get(word[: -len(head)]) if head else None
        if (word not in by_text and qualifier is not None and qualifier.oov and len(qualifier.text) >= 2
                and head in sent and qualifier.text not in near):
            out.append(Unmet("modifier", word))
    for i, (word, flag) in enumerate(words[:-1]):
        term = by_text.get(word)
        if (term is None or not term.oov or word in asked or len(word) < 2 or not flag.startswith(_MODIFIER_FLAGS)
                or word in near or (i and words[i - 1][1].startswith("r"))):
            continue  # after a pronoun the word is whose, not which kind (我们公司软件)
        head, head_flag = words[i + 1]
        if len(head) < 2 and head_flag.startswith(("a", "n", "b")) and i + 2 < len(words):  # 大 of 大模型
            head, head_flag = head + words[i + 2][0], words[i + 2][1]
        if len(head) >= 2 and head_flag.startswith("n") and head in sent:
            out.append(Unmet("modifier", word + head))
    return out


def not_covered_lead(found: list[Unmet], cross: bool) -> str:
    """The sentence that says what the documents do not cover, before the related quote."""
    if cross:
        return "The documents do not mention " + ", ".join(f"“{u.text}”" for u in found) + ". What they say: "
    return "资料未提及" + "、".join(f"“{u.text}”" for u in found) + "；资料中相关的内容是："
