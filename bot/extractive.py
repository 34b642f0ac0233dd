"""The offline answer engine: quote the sentence(s) that answer the question.

No model writes text here, so nothing can be made up: the answer is one or two
sentences copied verbatim from retrieved chunks.  Sentences are scored by
IDF-weighted coverage of the question's terms (Chinese-aware: jieba words with
character-bigram partial credit and a few generic policy synonyms), by the
kind of fact asked for (an amount, a date) and by retrieval rank.  English
questions are scored by cross-lingual embedding similarity instead.  The
engine refuses when the best sentence does not cover the question well
enough, or when the question names something the corpus never mentions.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jieba
import jieba.posseg as pseg
import numpy as np
from langchain_core.documents import Document

from bot import credits
from bot.answerability import _TITLE
from bot.chunking import CREDITS
from bot.citations import Claim
from bot.engines import AnswerEngine, Reply
from bot.structure import article_name, is_article, name_article
from bot.text import QUESTION_WORDS, STOPWORDS, is_cjk, normalize, read_word_table, sentence_spans

SYNONYMS_PATH = Path(__file__).parent / "data" / "synonyms.tsv"


def load_synonyms(path: Path = SYNONYMS_PATH) -> dict[str, tuple[str, ...]]:
    """Word → equivalents from the data file; each entry there says where it came from and what it earns."""
    return read_word_table(path)


# How citizens ask vs how documents word it (bot/data/synonyms.tsv).
SYNONYMS: dict[str, tuple[str, ...]] = load_synonyms()
GENERIC = STOPWORDS | frozenset(
    "问 问题 时候 有关 相关 情况 方面 内容 规定 可以 是否 有 拿到 申请 得到 领取 享受 多少钱 一次性 最多 最高 大约 左右 年度 今年 去年 明年".split()
)
_NOUNISH = ("n", "eng", "i", "j", "l")
_PROPER = ("nr", "ns", "nt", "nz", "eng")
# Words that ask ("几个", "多少") or point ("这份", "一项") rather than name a thing.
_ASKING = re.compile(r"[几哪谁啥]|多少|什么|怎么|^[这那该此本每一][个份项条家名次种些年月]?$|^[这那该此本每一][个份项条家名次种些起]")
_NUM = re.compile(r"\d+(?:\.\d+)?")
_YEAR_NUMBER = re.compile(r"(?:19|20)\d\d")
_ENGLISH_MAGNITUDE = re.compile(r"(\d+(?:\.\d+)?)\s*(thousand|million|billion|trillion)\b", re.I)
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_CN_NUM = re.compile(r"[一二三四五六七八九十百千两]+(?:个|项|家|名|次|倍|万|亿|番|成)|第[一二三四五六七八九十\d]+")
_DATE = re.compile(r"\d{1,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|[一二三四五六七八九十]+月")
# 几年 and 多少年 ask for a number of years (a duration); 哪几年 and 几几年 ask which years, 几年级 a school grade,
# and after a demonstrative or 近/前/后 (那几年, 近几年) 几 means "a few"
A_FEW_AFTER = "哪几这那近前后头"  # after these 几 does not ask a count (哪几 which, 那几年 "those few years")
_YEARS_COUNT = rf"(?<![{A_FEW_AFTER}])几年(?!级)"
_DURATION = re.compile(rf"{_YEARS_COUNT}|多少年")
_WANTS_NUMBER = re.compile(r"多少|(?<!几)几(?![几月号日年点时])|" + _YEARS_COUNT + r"|多大|多高|多长|金额|额度|比例|百分之|how (many|much)|\bwhat (?:(is|was|are|were) )?(the |its |their )?(amount|percentage|size|scale|number|value|total|height|length|population|share|proportion)\b|\bhow (large|big|tall|high|long|old|far|heavy)\b|增速|增长了|排名|第几|位列", re.I)
_WANTS_DATE = re.compile(r"什么时候|何时|哪天|哪一天|哪年|哪一年|几月|哪个?月|几号|月几日|哪日|日期|时间|\bwhen\b|\b(?:what|which) (?:exact |precise |specific )?(?:date|year|day|month)\b", re.I)
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_WANTS_DAY = re.compile(r"哪天|哪一天|几号|几日|哪日|\b(?:what|which) (?:exact |precise |specific )?(?:day|date)\b", re.I)
_DAY = re.compile(r"\d{1,2}\s*[日号]|[一二三四五六七八九十]+[日号]")
_WANTS_MONTH = re.compile(r"几月|哪个月|哪一个月|哪月|\b(?:what|which) month\b", re.I)
_MONTH = re.compile(r"\d{1,2}\s*月|[一二三四五六七八九十]+月|[正腊]月|月[初底末中]")
# the thing an English question asks for: "size" in "what is the size of …", "subsidy" in "what is the maximum subsidy"
_ASKED_EN = re.compile(r"\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the\s+|its\s+|their\s+)?([a-z]+)\b(?:\s+([a-z]+)\b)?", re.I)
# the thing an English question asks for by name: "which company", "what kind of subsidy" (not "what is", "what does")
_ASKED_NOUN_EN = re.compile(r"\b(?:what|which)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?(?!(?:is|was|are|were|does|do|did|can|"
                            r"could|will|would|should|has|have|had|kinds?|types?|sorts?)\b)([a-z]+)\b", re.I)
# the similarity features compare the best sentence with this many runners-up; a lone sentence leads by this much
SIMILARITY_RIVALS = 4
READ_TOP = 5  # sentences the answer reader reads per question
READ_WEIGHT = 0.5  # its probability's weight in their scores
SIMILARITY_ALONE = 0.1
_CONTINUES = re.compile(r"^(其中|同时|此外|另外|并且|而且|分别|且)")
# a one-character verb, the aspect particle and a measure word, which jieba's HMM joins into an unknown "noun" (搞了个,
# 弄了个 in 公司搞了个国际标准): Chinese grammar, not a word list
_VERB_LE_MEASURE = re.compile(r"[\u4e00-\u9fff][了过][个些次项件回下]")
_QUOTED = re.compile(r"[“\"「『]([\u4e00-\u9fff]{2,8})[”\"」』]")
_CLAUSES_MAX = 240  # characters a quote of clauses cut at ； may run to
# Chinese and English grammar: the nouns that ask for a reason, and a next sentence that gives the reason of the one
# before it (“这与…息息相关”, 这得益于…, 这是因为…)
_REASONS = frozenset({"原因", "缘故", "缘由", "理由", "起因", "成因"})
# a name is asked for by these words (叫什么名字), given by the name itself: a sentence that names the holder of the
# office asked about (``constraints.names_office_holder``) need not say 名字
_NAME_ASKED = frozenset({"名字", "姓名", "全名"})
# ... or a sentence that names the thing asked about in so many words (一台名为X的机器人, 该机器人取名为X)
_NAMES_IT = r"(?:名为|名叫|叫做|名字叫|取名为?|命名为|昵称为?|代号为)"
# the English words right before a Chinese term written out in brackets: "the pilot zone (先导区)"
_SPELLED = re.compile(r"((?:[A-Za-z][A-Za-z'-]*\s+){0,7}[A-Za-z][A-Za-z'-]*)\s*[(（]([\u3400-\u9fff]{2,})[)）]")
_ASKS_NAME = re.compile(r"叫什么|叫啥|的名字|名字是|叫做什么|名称")
_ASKS_REASON = re.compile(r"为什么|为何|为啥|原因|缘故|缘由|理由|起因|成因|\bwhy\b|\breasons?\b|\bcaused?\b", re.I)
_GIVES_REASON = re.compile(r"^[“\"「『]?(?:这|此|之所以)(?:主要|也|正|都|更)?(?:与|和|同|得益于|受益于|源于|归功于|归因于|缘于|是因为|是由于|是得益于|离不开)")


@dataclass
class Term:
    """A question term with its weight and whether an answer must contain it."""

    text: str
    weight: float
    must: bool
    oov: bool
    variants: tuple[str, ...] = ()


@dataclass
class Candidate:
    """A sentence inside a retrieved chunk."""

    chunk_n: int  # 1-based position in the retrieved list
    start: int
    end: int
    text: str
    context: str
    previous: str = ""
    line: int = 0  # line breaks before the sentence in its chunk
    score: float = 0.0
    coverage: float = 0.0
    missing: list[str] = field(default_factory=list)
    read: float | None = None  # the answer reader's probability that it states the answer (top candidates only)


@dataclass
class Decision:
    """What the engine chose: quotes to cite, or a refusal with its reason."""

    claims: list[Claim]
    answer: str
    refused: bool
    reason: str = ""
    related: bool = False  # refused, but the claims quote related material ("资料未提及…；资料中的规定是：…")
    probability: float | None = None  # the answerability model's estimate that the best sentence answers


@dataclass
class Ranking:
    """A question's terms and its retrieved sentences, scored; ``best`` is the top one."""

    question: str
    terms: list[Term]
    cands: list[Candidate]
    best: Candidate
    wants_number: bool
    wants_date: bool
    cross: bool
    chunks: list[Document]
    # (passages, query) embedders for ``similarity``; None where the engine has none (keyword-only training)
    embed: tuple[Callable[[list[str]], np.ndarray], Callable[[str], np.ndarray]] | None = None
    _similarity: tuple[float, float] | None = field(default=None, repr=False)

    def similarity(self) -> tuple[float, float] | None:
        """Embedding cosine of the question to the best sentence, and its lead over the next ``SIMILARITY_RIVALS``
        ``rivals`` by score (computed once, on demand: only the answerability model reads it); None without an
        embedder."""
        if self._similarity is None and self.embed is not None:
            passages, query = self.embed
            # a sentence is read with its document title and section heading (CMRC: the sentence alone ranks the
            # one that names the subject above the one that answers under a heading that names it)
            def text(c: Candidate) -> str:
                return f"{c.context} {c.text}".strip()
            rivals = [text(c) for c in sorted(self.rivals(), key=lambda c: -c.score)]
            sims = passages([text(self.best), *rivals[:SIMILARITY_RIVALS]]) @ query(self.question)
            lead = float(sims[0] - sims[1:].max()) if len(sims) > 1 else SIMILARITY_ALONE
            self._similarity = (float(sims[0]), lead)
        return self._similarity

    def rivals(self) -> list[Candidate]:
        """The other sentences, less those that restate the best one's figure (a number it states and the question
        does not, a year aside): news and policy texts repeat a fact in summary and in detail, and a sentence
        that agrees with the best one is support, not a competitor (``margin``, ``similarity_lead``)."""
        figures = _figures(self.best.text, self.question)
        return [c for c in self.cands if c is not self.best
                and not (figures and any(f in normalize(c.text) for f in figures))]


def date_form(question: str) -> re.Pattern[str]:
    """What a sentence must state to answer a question that asks a date: a day (哪天, 几号), a month (几月, which
    month — a year alone does not answer 几月份开始报名), else any date."""
    return _DAY if _WANTS_DAY.search(question) else _MONTH if _WANTS_MONTH.search(question) else _DATE


def quoted(best: Candidate, cands: list[Candidate], *, reason: bool = False) -> list[Candidate]:
    """The sentences an answer quotes: ``best``, with the next sentence when it continues the first (其中…) or the
    first is very short, or, for a question that asks why (``reason``), the next one or two up to one that gives the
    first one's reason (这与…相关)."""
    chosen = [best]
    idx = cands.index(best)
    if idx + 1 < len(cands):
        nxt = cands[idx + 1]
        same_chunk = nxt.chunk_n == best.chunk_n and nxt.line == best.line  # no line break between them
        if same_chunk and (len(best.text) < 30 or (_CONTINUES.match(nxt.text) and nxt.coverage >= best.coverage * 0.8)):
            chosen.append(nxt)
    if reason:
        # why: one of the next two sentences gives the reason of this one (a clause cut at ； may come first)
        after = [c for c in cands[idx + 1 : idx + 3] if c.chunk_n == best.chunk_n]
        giving = next((i for i, c in enumerate(after) if _GIVES_REASON.match(c.text)), None)
        if giving is not None:
            chosen = [best, *after[: giving + 1]]
    # a clause cut at ；: the quote runs on to the end of its sentence (a list's next item, 培育…等产业), a
    # few clauses at most
    at = cands.index(chosen[-1])
    while (len(chosen) < 4 and chosen[-1].text.rstrip().endswith((";", "；")) and at + 1 < len(cands)
           and cands[at + 1].chunk_n == best.chunk_n and cands[at + 1].line == best.line
           and sum(len(c.text) for c in chosen) + len(cands[at + 1].text) <= _CLAUSES_MAX):
        at += 1
        chosen.append(cands[at])
    return chosen


class ExtractiveAnswerer:
    """Pick and quote the answering sentence(s) from retrieved chunks."""

    def __init__(self, *, idf, embed_passages=None, embed_query=None, dictionary_dir: Path | None = None,
                 read=None, spelt=None) -> None:
        self.dictionary_dir = dictionary_dir  # where the parsed CC-CEDICT is kept (the engine's data folder)
        self._idf = idf  # token -> idf (0 when the corpus never uses it)
        self._embed_passages = embed_passages
        self._embed_query = embed_query
        self._read = read  # the answer reader, (question, passages) -> probabilities (``_reader_rerank``)
        self._spelt = spelt  # pinyin key -> the corpus's words spelt so (English questions' names)

    # ---- question analysis ------------------------------------------------------------------------

    def terms(self, question: str) -> list[Term]:
        """Content terms of a question, weighted by corpus IDF.

        An English question's words are matched through their dictionary
        translations (``bot.crosslingual``).
        """
        if not is_cjk(question):
            return self._cross_terms(question)
        return self._zh_terms(question)

    def _zh_terms(self, question: str) -> list[Term]:
        terms: dict[str, Term] = {}
        words = self._recut_unknown(_pos_cut(unicodedata.normalize("NFKC", question).lower()))
        known = [self._idf(w) for w, _ in words if self._idf(w) > 0]
        default = float(np.median(known)) if known else 3.0
        # a reason is given by a clause (这与…相关, 由于…), not named: 原因 in 原因是什么 need not be in the corpus
        asked_for = {w for w in _asked_for(words) if w not in _REASONS}
        listed = _listed(words) - _REASONS
        for i, (word, flag) in enumerate(words):
            word = word.strip()
            # a one-character common noun (税, 车, 房) names what is asked about: a term like any other (measured on
            # CMRC, docs/answerability.md), unless it is the unit of a count (多少人, 多少钱)
            one = len(word) == 1 and flag == "n" and not (i and words[i - 1][0] in ("几", "多少"))
            if (word in GENERIC or _ASKING.search(word) or not re.search(r"[\w\u3400-\u9fff]", word)
                    or (len(word) == 1 and not word.isdigit() and not one)):
                continue
            idf = self._idf(word)
            if idf == 0 and len(word) >= 3 and is_cjk(word) and not flag.startswith(_PROPER):
                # jieba cut the question differently from the corpus ("鱼体色"): use the
                # pieces the corpus does know instead of one unknown word
                pieces = [p for p in _search_cut(word) if len(p) >= 2 and p != word and self._idf(p) > 0]
                if pieces:
                    for piece in pieces:
                        terms.setdefault(piece, Term(piece, self._idf(piece), False, False))
                    qualifier = word[: -len(pieces[0])] if len(pieces) == 1 and word.endswith(pieces[0]) else ""
                    if len(qualifier) >= 2 and self._idf(qualifier) == 0 and not any(map(self._idf, _bigrams(qualifier))):
                        # a qualifier the corpus never uses on a word it knows (省级 of 省级重点): kept, so that its
                        # absence counts and the qualifier check sees it
                        terms.setdefault(qualifier, Term(qualifier, default, False, True))
                    continue
            sub = [self._idf(w) for w in _bigrams(word)] if idf == 0 and is_cjk(word) else []
            oov = idf == 0 and not any(sub) and not any(self._idf(s) for s in SYNONYMS.get(word, ()))
            weight = idf or (max(sub) if any(sub) else (default * (1.5 if flag.startswith(_PROPER) else 1.0 if flag.startswith(_NOUNISH) else 0.5)))
            # Only names (places, people, organisations, Latin terms) and numbers must
            # appear: a question about 深圳 is not answered by a sentence about 成都.
            # The thing asked for (网址 in 哪个网址) must be in the corpus at all, and weighs
            # double: an answer sentence usually names an instance, not the category.
            # The thing whose items are asked for (申报材料 in 申报材料有哪些) likewise: a corpus that never
            # names it cannot list it (CMRC/RGB: fires on 1 of 4,827 training-pipeline questions; docs/answerability.md)
            # An office (董事长) the corpus never names likewise: no sentence of it says who holds it (fires on none
            # of the 3,519 CMRC and RGB questions, whose offices their passages name)
            office = flag.startswith("n") and _TITLE.search(word) is not None
            # a total or number asked (总数, 总量, 数目, 个数) is no thing the sources must name: a number answers it
            quantity = re.fullmatch(r"总[数量额]|数[目量]|个数", word) is not None
            must = (word.isdigit() and len(word) >= 2) or (oov and not quantity and (
                flag.startswith(_PROPER) or word in asked_for or word in listed or office))
            if word in asked_for:
                weight *= 2
            must = must and not one
            terms[word] = Term(word, weight, must, oov)
        # a name the question quotes (“小智”机器人) is one, whatever jieba makes of it: the sentence must name it
        for name in _QUOTED.findall(unicodedata.normalize("NFKC", question).lower()):
            if name not in terms and is_cjk(name):
                idf = self._idf(name) or max((self._idf(w) for w, _ in _pos_cut(name)), default=0.0)
                terms[name] = Term(name, max(idf, default), True, idf == 0)
        return list(terms.values())

    def _recut_unknown(self, words: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        """Adjacent words the corpus never uses, cut again by the words it does use when one spans their border:
        jieba cuts 搞碳汇券 into 搞 / 碳 / 汇券, the corpus knows 碳汇券 (longest known word first, left to right;
        the question's words that no known word overlaps stay)."""
        out: list[tuple[str, str]] = []
        i = 0
        while i < len(words):
            j = i
            while (j < len(words) and len(words[j][0]) <= 3 and is_cjk(words[j][0])
                   and (self._idf(words[j][0]) == 0 or len(words[j][0]) == 1)  # 碳 of 碳/汇券 is no term either
                   and words[j][1][:1] in ("n", "v", "a", "j", "l") and not words[j][1].startswith(_PROPER)
                   and (words[j][0] not in GENERIC or len(words[j][0]) == 1)):
                j += 1
            if j - i >= 2:
                run = "".join(w for w, _ in words[i:j])
                spans = list(zip(itertools.accumulate((len(w) for w, _ in words[i:j]), initial=0), words[i:j], strict=False))
                known: list[tuple[int, str]] = []
                at = 0
                while at < len(run):
                    size = next((n for n in range(min(5, len(run) - at), 1, -1) if self._idf(run[at:at + n]) > 0), 0)
                    if size:
                        known.append((at, run[at:at + size]))
                    at += size or 1
                covered = {k for a, w in known for k in range(a, a + len(w))}
                if any((a, w) not in {(b, t) for b, (t, _) in spans} for a, w in known):  # not one of jieba's words
                    kept = [(b, t) for b, t in spans if not covered & set(range(b, b + len(t[0])))]
                    out.extend(t for _, t in sorted([*((a, (w, "n")) for a, w in known), *kept]))
                    i = j
                    continue
            out.append(words[i])
            i += 1
        return tuple(out)

    def _cross_terms(self, question: str) -> list[Term]:
        """English words become terms matched by their dictionary translations."""
        from bot.answerability.constraints import asks_bound
        from bot.crosslingual import dictionary_translations, proper_names, romanised_names, translate

        known = lambda zh: self._idf(zh) > 0
        names = {n.lower() for n in proper_names(question)}
        asked = _asked_heads_en(question)
        terms = []
        # names in pinyin (Zhong Zihan) that the corpus writes in Chinese: one term, matched by those words
        spelt = (romanised_names(question, spelt=self._spelt, known=known, cache_dir=self.dictionary_dir)
                 if self._spelt is not None else [])
        for name, spelling in spelt:
            terms.append(Term(name, max(self._idf(z) for z in spelling), False, False, spelling))
        in_names = {w for name, _ in spelt for w in name.split()}
        # the word after "how" is the form of the question (how tall, how large), as 多高 is in Chinese: the measure
        # asked is checked by its units (``constraints.asked_measure``), not looked for as a word
        asking = {w.lower() for w in re.findall(r"\bhow\s+([A-Za-z]+)", question, re.I)}
        for word, zh in translate(question, known=known, cache_dir=self.dictionary_dir):
            low = word.lower()
            if low in in_names or low in asking:
                continue
            if low in _MONTHS:
                month = f"{_MONTHS.index(low) + 1}月"
                terms.append(Term(low, max(self._idf(month), 1.0), True, False, (month,)))
            elif self._idf(low) > 0:  # a Latin term the corpus itself uses ("AI", "GDP")
                terms.append(Term(low, self._idf(low), False, False))
            elif zh:
                terms.append(Term(low, max(self._idf(z) for z in zh), False, False, tuple(zh)))
            elif dictionary_translations(word, cache_dir=self.dictionary_dir):
                # a place or person the dictionary knows but the corpus never mentions is
                # a reason to refuse; another word the corpus lacks only lowers coverage.  A bound asked ("the
                # annual cap", "the maximum") is read by the bound check against the sentence's (累计不超过), not
                # looked for as a word
                must = (low in names or low in asked) and not asks_bound(low)
                terms.append(Term(low, 0.0 if must else -1.0, must, True))
            elif not word.islower() or len(low) >= 6:
                # unknown to the dictionary too (biotech, Wesco): kept, as a Chinese question keeps a word the corpus
                # lacks, so that it lowers coverage instead of vanishing.  A name among them is no reason to refuse:
                # the sources may write it in characters no dictionary gives (韦斯科); the English model weighs it
                # (CMRC part 2 in English: correct − 2 × wrong 42 → 47, docs/answerability.md)
                terms.append(Term(low, 0.0 if low in names or low in asked else -1.0, False, True))
        # a word the corpus lacks weighs what a typical known word of the question weighs (the Chinese rule:
        # the median IDF), half again for a name or the thing asked for (placeholder weight 0), so a missing
        # qualifier counts
        typical = float(np.median([t.weight for t in terms if t.weight > 0] or [2.0]))
        for t in terms:
            if t.weight <= 0 and t.oov:
                t.weight = typical * (1.5 if t.weight == 0 else 1.0)
        for num in _NUM.findall(_chinese_magnitudes(question)):
            if len(num) >= 2:
                terms.append(Term(num, max(self._idf(num), 1.0), True, self._idf(num) == 0))
        cjk = "".join(re.findall(r"[\u3400-\u9fff]+", question))
        if cjk:  # Chinese words inside an English question ("the rule on 个体工商户")
            for t in self._zh_terms(cjk):
                # written in Chinese on purpose: the exact term meant, so sources that never use it have no answer
                t.must = t.must or t.oov
                terms.append(t)
        return terms

    # ---- answering -----------------------------------------------------------------------------

    def rank(self, question: str, chunks: list[Document], *, read: bool = True) -> Ranking | None:
        """Score every sentence of ``chunks`` for ``question``; None when there is none. ``read``: let the answer
        reader re-rank the best sentences (the provisions path does not: its model was fitted without it, and the
        reader, trained on whole articles, prefers an article's opening over the item that answers)."""
        if not chunks or not normalize(question):
            return None
        question = plain_question(question)
        terms = self.terms(question)
        cands = _candidates(chunks)
        if not cands:
            return None
        from bot.answerability.constraints import asked_measure, asked_units, states_count

        wants_number = bool(_WANTS_NUMBER.search(question))
        wants_date = bool(_WANTS_DATE.search(question))
        measure = asked_measure(question)  # 多高: a number in a unit of length is the kind of fact asked for
        counts = asked_units(question)  # 几台: a number of 台
        for cand in cands:
            cand.coverage, cand.missing = _coverage(terms, cand)
            rank_prior = 1.0 / (1 + 0.25 * (cand.chunk_n - 1))
            typed = 0.0
            if measure is not None:
                typed += 0.15 if measure[2].search(normalize(cand.text)) else -0.3
            elif counts:
                typed += 0.15 if any(states_count(normalize(cand.text), c) for c in counts) else -0.3
            elif wants_number:
                typed += 0.15 if _has_new_number(cand.text, question) else -0.3
            if wants_date:
                typed += 0.15 if _DATE.search(cand.text) else -0.3
            # shorter sentences say less that was not asked: a mild length penalty
            cand.score = 0.7 * cand.coverage + 0.1 * rank_prior + typed - 0.04 * len(cand.text) / 100
        self._dense_rerank(question, cands)
        cross = not is_cjk(question)
        if read and self._read is not None:
            self._reader_rerank(question, cands)
        best = max(cands, key=lambda c: c.score)
        return Ranking(question=question, terms=terms, cands=cands, best=best, wants_number=wants_number,
                       wants_date=wants_date, cross=cross, chunks=chunks,
                       embed=(self._embed_passages, self._embed_query)
                       if self._embed_passages is not None and self._embed_query is not None else None)

    def answer(self, question: str, chunks: list[Document]) -> Decision:
        """Choose the quote(s) for ``question`` from ``chunks``, say what is not covered, or refuse.

        The best sentence is judged first: hard vetoes (a name the sources never mention, no
        amount or date where one is asked for); then the explicit constraint checks (a year,
        number, place or kind the question sets must be met by the quoted sentence); then the
        trained answerability model (``bot.answerability``) decides whether it answers at all.
        When it does not and law articles were retrieved, the answer quotes the governing
        provisions instead (``provisions``: citizens' legal questions share few words with the
        article that answers them), unless the provisions model finds that none applies.
        """
        credit = self._credit_answer(question, chunks)
        if credit is not None:
            return credit
        decision = self._sentence_answer(question, chunks)
        credit_asked = credits.asked(question) or ""
        if not decision.refused and not all(credits.tells(credit_asked, c.quote) for c in decision.claims):
            return Decision([], "", True, "the question asks who took a photo and the best sentence does not say")
        quoted = {article_name(chunks[c.n - 1].metadata) for c in decision.claims if 1 <= c.n <= len(chunks)} - {""}
        if not decision.refused and quoted:
            # a sentence of a law answers: the other provisions retrieved follow it ("另见《…》第N条：…")
            more = self.provisions(question, chunks, skip=quoted, see_also=True)
            if not more.refused:
                decision.claims += more.claims
                decision.answer += "\n" + more.answer
            return decision
        if decision.refused and not decision.related and any(map(is_article, chunks)):
            from_law = self.provisions(question, chunks)
            if not from_law.refused:
                return from_law
            decision.reason = f"{decision.reason}; {from_law.reason}"
        return decision

    def _credit_answer(self, question: str, chunks: list[Document]) -> Decision | None:
        """A byline or photo credit asked for and found among ``chunks`` (``bot.credits``); None otherwise."""
        found = credits.find(question, chunks, covers=self._covers)
        if found is None:
            return None
        claim = credits.claim(found)
        cite = f"{claim.quote}[{claim.n}]"
        if found.answers:
            return Decision([claim], cite, False, "")
        return Decision([claim], credits.not_given_lead(cross=not is_cjk(question)) + cite, True,
                        "the caption names no photographer", related=True)

    def _covers(self, subject: str, text: str) -> float:
        """How well ``text`` (a caption's subject or a document's title) holds what ``subject`` says; 0 when it does
        not: a Chinese question's every term must be there; an English one's (loose dictionary translations) at least
        two, 60 % by weight. A romanised name no translation gives is matched by its pinyin (Rongbao, 蓉宝)."""
        from bot.crosslingual import MIN_PINYIN, pinyin_key

        terms = self.terms(plain_question(subject)) if normalize(subject) else []
        if not terms:
            return 1.0
        cross = not is_cjk(subject)
        spelt = pinyin_key(text)
        cand = Candidate(0, 0, len(text), text, "", "")
        for t in terms:
            if cross and t.oov and len(t.text) >= MIN_PINYIN and pinyin_key(t.text) in spelt:
                t.variants, t.oov = (t.text,), False
                cand.text += t.text  # matched as spelt
        cover, missing = _coverage(terms, cand)
        if not cross:
            return cover if not missing else 0.0
        return cover if cover >= 0.6 and len(terms) - len(missing) >= min(2, len(terms)) else 0.0

    def _sentence_answer(self, question: str, chunks: list[Document]) -> Decision:
        from bot.answerability import constraints, model

        ranking = self.rank(question, chunks)
        if ranking is None:
            return Decision([], "", True, "nothing retrieved" if not chunks or not normalize(question) else "no sentences")
        terms, best = ranking.terms, ranking.best
        holder = constraints.names_office_holder(ranking)
        named = holder or _names_asked_thing(question, best.text)
        # an English question that writes its Chinese term out ("the pilot zone (试验区)"), which the sentence has: the
        # English words it translates (those right before it) need no translation of their own
        text = normalize(best.text)
        vouched = {w for m in _SPELLED.finditer(question) if normalize(m.group(2)) in text
                   for w in constraints.english_words(m.group(1))} if ranking.cross else set()
        reason = self._refusal_reason([t for t in terms if not (named and t.text in _NAME_ASKED)], best,
                                      cross=ranking.cross, vouched=vouched)
        if not reason and ranking.wants_number and not _has_new_number(best.text, question):
            reason = "the question asks for an amount and the best sentence states none"
        if not reason and ranking.wants_date and not date_form(question).search(best.text):
            reason = "the question asks for a date and the best sentence gives none"
        if not reason and best.coverage < model().floor_for(cross=ranking.cross):
            reason = f"the best sentence covers only {best.coverage:.0%} of the question"
        if reason:
            return Decision([], "", True, reason)
        unmet = constraints.unmet(ranking)
        prob = model().probability(ranking, unmet=len(unmet))
        threshold = model().threshold_for(cross=ranking.cross)
        if unmet:
            # The sentence is about the topic but not what was asked (国家标准 for 地方标准):
            # say so, and cite it only as related material, never as the answer.
            reason = "the question sets " + "、".join(u.text for u in unmet) + ", which the best sentence does not meet"
            if model().probability(ranking, unmet=0) >= threshold:
                lead = constraints.not_covered_lead(unmet, ranking.cross)
                return Decision([Claim(n=best.chunk_n, quote=best.text)], f"{lead}{best.text}[{best.chunk_n}]", True,
                                reason, related=True, probability=prob)
            return Decision([], "", True, reason, probability=prob)
        if prob < threshold and not holder:
            return Decision([], "", True, f"answerability {prob:.2f} is below the threshold {threshold:.2f}",
                            probability=prob)
        chosen = quoted(best, ranking.cands, reason=asks_reason(question))
        # adjacent sentences of one chunk are one quote, so the citation highlights all that is shown;
        # an item of a law article is quoted with the sentence that introduces the items
        chunk = chunks[best.chunk_n - 1]
        start = chosen[0].start
        if is_article(chunk):
            start = _with_stem(chosen[0], [c for c in ranking.cands if c.chunk_n == best.chunk_n])
        quote = _without_number(chunk.page_content[start : chosen[-1].end], chunk)
        return Decision([Claim(n=best.chunk_n, quote=quote)], f"{quote}[{best.chunk_n}]", False, "", probability=prob)

    def provisions(self, question: str, chunks: list[Document], *, articles: int | None = None,
                   skip: set[str] | None = None, see_also: bool = False) -> Decision:
        """For law articles: quote the governing sentence of the first few distinct articles retrieved, each named
        (根据《…》第N条，…[1] 另见《…》第M条：…[2]), or refuse when the provisions model finds none applies.
        Only the article chunks are read; citation numbers are their places in ``chunks``. ``skip``: articles
        already quoted (they count towards the number quoted); ``see_also``: every quote is led by 另见."""
        from bot.answerability import provisions

        place = [n for n, c in enumerate(chunks, 1) if is_article(c)]
        ranking = self.rank(question, [chunks[n - 1] for n in place], read=False)
        if ranking is None:
            return Decision([], "", True, "no law article retrieved")
        gate = provisions.model()
        prob = gate.probability(ranking)
        if prob < gate.threshold:
            return Decision([], "", True, f"no article found applies (provisions model {prob:.2f}, "
                            f"threshold {gate.threshold:.2f})", probability=prob)
        claims: list[Claim] = []
        parts: list[str] = []
        seen: set[str] = set(skip or ())
        wanted = (articles or gate.articles) - len(seen)
        for i, chunk in enumerate(ranking.chunks, 1):
            if len(claims) >= wanted:
                break
            name = article_name(chunk.metadata)
            own = [c for c in ranking.cands if c.chunk_n == i]
            if not name or name in seen or not own:
                continue
            seen.add(name)
            chosen = quoted(max(own, key=lambda c: c.score), ranking.cands)
            start = _with_stem(chosen[0], own)
            quote = chunk.page_content[start : chosen[-1].end]
            quote = _without_number(quote, chunk)
            n = place[i - 1]
            claims.append(Claim(n=n, quote=quote))
            first = not parts and not see_also
            if ranking.cross:
                lead = f"Under {name}: " if first else f"See also {name}: "
            else:
                lead = f"根据{name}，" if first else f"另见{name}："
            parts.append(f"{lead}{quote}[{n}]")
        if not claims:
            return Decision([], "", True, "no sentence of the retrieved articles to quote", probability=prob)
        return Decision(claims, "\n".join(parts), False, "", probability=prob)

    def _refusal_reason(self, terms: list[Term], best: Candidate, *, cross: bool,
                        vouched: set[str] | frozenset[str] = frozenset()) -> str:
        """Why the best sentence cannot answer, or "".  ``vouched``: English words the sources do not know that need
        not be there (those an English question translates by writing out the Chinese term the sentence has)."""
        if terms and best.coverage <= 0:
            return "the best sentence contains none of the question's words"
        must_missing = [t.text for t in terms if t.must and t.text in best.missing and t.text not in vouched]
        if must_missing:
            return "the question names " + "、".join(must_missing) + ", which the sources do not"
        if cross and len(terms) >= 2 and len(terms) - len(best.missing) < 2:
            # dictionary translations are loose: one matching word is not a basis
            return "only one of the question's words is found in the sources"
        return ""

    def _reader_rerank(self, question: str, cands: list[Candidate]) -> None:
        """The answer reader reads the ``READ_TOP`` best sentences; its probability, weighted ``READ_WEIGHT``,
        is added to their scores (CMRC dev part 2, validation: see docs/answerability.md "The answer reader")."""
        from bot.answerability.reader import passage_text

        top = sorted(cands, key=lambda c: -c.score)[:READ_TOP]
        for cand, p in zip(top, self._read(question, [passage_text(c.text, c.context) for c in top]), strict=True):
            cand.read = float(p)
            cand.score += READ_WEIGHT * cand.read

    def _dense_rerank(self, question: str, cands: list[Candidate], *, margin: float = 0.1, top: int = 4,
                      weight: float = 1.5) -> None:
        """Break near-ties between the best lexical candidates by embedding similarity.

        Only a handful of sentences are embedded (and cached), so this costs
        little; it settles cases such as two sentences that both mention
        "上半年" and "同比" where only one is about the asked industry.
        """
        if self._embed_passages is None or self._embed_query is None:
            return
        ranked = sorted(cands, key=lambda c: -c.score)
        close = [c for c in ranked[:top] if c.score >= ranked[0].score - margin]
        if len(close) < 2:
            return
        sims = self._embed_passages([c.text for c in close]) @ self._embed_query(question)
        low = float(sims.min())
        for cand, sim in zip(close, sims, strict=True):
            cand.score += weight * (float(sim) - low)

_ITEM = re.compile(r"^\s*[（(][一二三四五六七八九十]+[）)]")
_STEM_GAP = 160  # characters of earlier items a quote may carry to reach its stem


def _without_number(quote: str, chunk: Document) -> str:
    """An article's quote without the article's own number in front (第五十六条 …): the answer's lead names it."""
    number = str(chunk.metadata.get("article") or "") if is_article(chunk) else ""
    if number and quote.startswith(number) and quote[len(number) :].strip():
        return quote[len(number) :].lstrip()
    return quote


def _with_stem(first: Candidate, own: list[Candidate]) -> int:
    """Where a quote of an article should start: at ``first``, or — when ``first`` is an item ("（三）未依法…") — at
    the sentence that introduces the items ("用人单位有下列情形之一的，劳动者可以解除劳动合同："), so the item
    reads with what it is an item of; only when the items in between are short (the quote stays one verbatim span)."""
    if not _ITEM.match(first.text):
        return first.start
    stems = [c for c in own if c.end <= first.start and c.text.rstrip().endswith(("：", ":"))]
    if stems and first.start - stems[-1].end <= _STEM_GAP:
        return stems[-1].start
    return first.start


@lru_cache(maxsize=4096)
def _pos_cut(text: str) -> tuple[tuple[str, str], ...]:
    # The HMM guesses unknown words; on a long run of rare characters it costs
    # seconds, so long inputs are cut with the dictionary alone.
    out: list[tuple[str, str]] = []
    for w in pseg.lcut(text, HMM=len(text) <= 100):
        if _VERB_LE_MEASURE.fullmatch(w.word):  # the HMM's "noun" 搞了个 is a verb, 了 and a measure word
            out.extend(((w.word[0], "v"), (w.word[1], "ul"), (w.word[2], "q")))
        else:
            out.append((w.word, w.flag))
    return tuple(out)


def _names_asked_thing(question: str, sentence: str) -> bool:
    """Whether the sentence names the thing whose name the question asks (那个机器人叫什么名字: 一台名为X的机器人, 机器人
    取名为X); the name of another thing it names (the dancer's, of 名为X的机器人 and 一位舞者) is no answer."""
    asked = _ASKS_NAME.search(question)
    if asked is None:
        return False
    nouns = [w for w, f in _pos_cut(question[:asked.start()]) if f.startswith("n") and len(w) >= 2]
    if not nouns:
        return False
    thing = re.escape(nouns[-1])
    return re.search(rf"{_NAMES_IT}[^,，。;；]{{1,24}}?的{thing}|{thing}[^,，。;；]{{0,4}}{_NAMES_IT}", sentence) is not None


def asks_reason(question: str) -> bool:
    """The question asks why (为什么, 原因是什么, "why")."""
    return bool(_ASKS_REASON.search(question))


def _chinese_magnitudes(question: str) -> str:
    """English amounts in Chinese units, as a Chinese text writes them: 45 billion → 450亿, 2.5 million → 250万."""
    def chinese(m: re.Match[str]) -> str:
        value = float(m.group(1)) * _SCALES[m.group(2).lower()]
        unit, div = next(((u, d) for u, d in (("万亿", 1e12), ("亿", 1e8), ("万", 1e4)) if value >= d), ("", 1.0))
        return f"{value / div:.4f}".rstrip("0").rstrip(".") + unit

    return _ENGLISH_MAGNITUDE.sub(chinese, question)


def _asked_heads_en(question: str) -> set[str]:
    """What "what is the …" asks for (lower case): subsidy in "what is the maximum subsidy", size in "what is the size
    of …" (the word after the article, or the next one when that is a stopword)."""
    return {(head if head and head.lower() not in STOPWORDS else word).lower()
            for word, head in _ASKED_EN.findall(question)}


def asked_for_en(question: str) -> set[str]:
    """The nouns an English question asks for: company in "which company", subsidy in "what kind of subsidy",
    number in "what is the phone number" (lower case)."""
    return ({m.lower() for m in _ASKED_NOUN_EN.findall(question)} | _asked_heads_en(question)) - STOPWORDS


def _asked_for(words: tuple[tuple[str, str], ...]) -> set[str]:
    """The noun a question asks for: 网址 in 哪个网址 / 什么网址, 电话 in 电话是多少."""
    out = set()
    for i, (word, _flag) in enumerate(words):
        if _ASKING.search(word) and i + 1 < len(words) and words[i + 1][1].startswith("n"):
            out.add(words[i + 1][0])
        if word in ("多少", "什么", "哪里") and i >= 2 and words[i - 1][0] == "是" and words[i - 2][1].startswith("n"):
            out.add(words[i - 2][0])
    return out


def _listed(words: tuple[tuple[str, str], ...]) -> set[str]:
    """The noun whose items or nature a question asks for: 材料 in 申报材料有哪些 / 包括哪些 / 是什么 / 有什么."""
    return {words[i - 2][0] for i, (word, _flag) in enumerate(words)
            if word in ("哪些", "什么") and i >= 2 and words[i - 1][0] in ("有", "包括", "是") and words[i - 2][1].startswith("n")}


def _figures(sentence: str, question: str, *, years: bool = False) -> set[str]:
    """Numbers of two or more digits the sentence states and the question does not, calendar years aside unless
    ``years``."""
    asked = set(_NUM.findall(normalize(question)))
    return {n for n in _NUM.findall(normalize(sentence))
            if n not in asked and len(n) >= 2 and (years or not _YEAR_NUMBER.fullmatch(n))}


def _has_new_number(sentence: str, question: str) -> bool:
    """A quantity in the sentence that the question did not already state.

    Years and dates do not count: "2024年" does not answer "多少"; "10年" answers "几年".
    """
    from bot.answerability.constraints import states_count

    asked = set(_NUM.findall(unicodedata.normalize("NFKC", question)))
    found = _NUM.findall(_DATE.sub(" ", unicodedata.normalize("NFKC", sentence)))
    if any(n not in asked for n in found) or _CN_NUM.search(sentence):
        return True
    # a number of years (10年, 三年) answers 几年/多少年; a date year (2023年) does not
    return bool(_DURATION.search(question)) and states_count(normalize(sentence), "年")


@lru_cache(maxsize=4096)
def _search_cut(word: str) -> tuple[str, ...]:
    return tuple(jieba.lcut_for_search(word))


def _bigrams(word: str) -> list[str]:
    return [word[i : i + 2] for i in range(len(word) - 1)] or [word]


def _candidates(chunks: list[Document]) -> list[Candidate]:
    out = []
    for n, chunk in enumerate(chunks, 1):
        text = chunk.page_content
        meta = chunk.metadata
        if meta.get("part") == CREDITS:  # a byline or caption answers only a credit question (bot.credits)
            continue
        head = " ".join(x for x in (str(meta.get("title", "")), str(meta.get("heading", ""))) if x)
        prev = ""
        for s, e in sentence_spans(text):
            sent = text[s:e]
            if sent.lstrip().startswith("#"):
                prev = sent
                continue
            out.append(Candidate(n, s, e, sent, normalize(head), normalize(prev), text.count("\n", 0, s)))
            prev = sent
    return out


def _coverage(terms: list[Term], cand: Candidate) -> tuple[float, list[str]]:
    """IDF-weighted share of the question's terms found in the sentence.

    The sentence itself counts fully; the document title and section heading
    at 60 %, the previous sentence (which may carry the subject) at 40 %.  A
    term found nowhere is listed as missing.
    """
    if not terms:
        return 0.0, []
    sent = normalize(cand.text)
    total = got = 0.0
    missing = []
    for term in terms:
        total += term.weight
        m = _term_match(term, sent)
        if m < 1:
            m = max(m, 0.6 * _term_match(term, cand.context), 0.4 * _term_match(term, cand.previous))
        if m == 0:
            missing.append(term.text)
        got += term.weight * m
    return got / total, missing


def _term_match(term: Term, text: str) -> float:
    if term.variants:
        return 1.0 if any(v in text for v in term.variants) else 0.0
    return _match(term.text, text)


def _match(term: str, text: str) -> float:
    if term in text:
        return 1.0
    if any(s in text for s in SYNONYMS.get(term, ())):
        return 0.85
    if len(term) >= 2 and is_cjk(term):
        grams = _bigrams(term)
        share = sum(g in text for g in grams) / len(grams)
        if share:
            return 0.7 * share
        if len(term) == 2 and all(ch in text for ch in term):
            return 0.3
    return 0.0


_FIRST_HALF = re.compile(r"(?:前|头)(?:六|6)个月|(?<!\d)1\s*[-–—~～至到]\s*6\s*月(?:份)?")
_SECOND_HALF = re.compile(r"(?:后|最后)(?:六|6)个月|(?<!\d)7\s*[-–—~～至到]\s*12\s*月(?:份)?")
# 好多 asks 多少 in south-western Mandarin (能拿好多钱): so read in a question with no other question word
_HOW_MUCH_SW = re.compile(r"好多")
_OTHER_WH = re.compile(QUESTION_WORDS)


def plain_question(question: str) -> str:
    """The question in the words the sources would use where its own are a dialect's or a calendar's: 前六个月 and
    1-6月 are 上半年, 后六个月 and 7-12月 下半年 (jieba cuts 2023年前六个月 as 年前 / 六个月, and 六个 would read
    as a count); 好多 with no other question word is 多少."""
    question = _SECOND_HALF.sub("下半年", _FIRST_HALF.sub("上半年", question))
    if is_cjk(question) and not _OTHER_WH.search(question):
        question = _HOW_MUCH_SW.sub("多少", question)
    return question


class ExtractiveEngine(AnswerEngine):
    """The default answer engine: quotes the answering sentence(s) of the retrieved chunks; needs no model."""

    name = "extractive"

    def answer(self, question: str, chunks: list[Document], *, lang: str) -> Iterator[str | Reply]:
        decision = self.tools.answerer().answer(question, chunks)
        # an answer quoting an article says which: 根据《…》第N条，…
        text = decision.answer if decision.refused else name_article(decision.answer, decision.claims, chunks, lang=lang)
        yield Reply(text=text, claims=decision.claims, refused=decision.refused, reason=decision.reason,
                    engine=self.name, related=decision.related, confidence=decision.probability)
