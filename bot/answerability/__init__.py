"""Does the best sentence answer the question?  A small trained model decides.

The extractive engine ranks sentences by how much of the question they cover;
whether the top one *answers* is a separate decision.  It is made by a
logistic regression over a dozen features of the ranking (coverage, the
weight of the question words the sentence lacks, the answer type, the margin
over the runner-up, …), trained offline on public Chinese QA data that has
nothing to do with the bundled article (``bot/answerability/train.py``; model
card: ``docs/answerability.md``).  Its weights ship as ``model.json``; the
threshold in that file was chosen on a validation split.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.text import normalize

if TYPE_CHECKING:
    from bot.extractive import Ranking, Term

MODEL_PATH = Path(__file__).with_name("model.json")

FEATURES = (
    "coverage",            # IDF-weighted share of question terms in the sentence (context at part credit)
    "sentence_coverage",   # the same, counting the sentence alone
    "chunk_coverage",      # the same over the whole chunk
    "missing_share",       # weight share of the question terms found nowhere near the sentence
    "max_missing",         # the heaviest missing term's weight, relative to the heaviest term
    "terms",               # log(1 + number of question terms)
    "rank",                # 1 / position of the sentence's chunk in the retrieved list
    "margin",              # score of the best sentence minus the runner-up's (not one restating its figure)
    "length",              # log(sentence length in characters)
    "wants_number",        # the question asks for an amount / count
    "wants_date",          # the question asks for a date
    "has_number",          # the sentence states a number the question did not
    "unmet",               # constraints the question sets that the sentence does not meet
    "support",             # log(1 + other retrieved chunks that state the sentence's new numbers too)
    "asked_said",          # the thing asked for (补贴 in 有什么补贴) is named in the sentence: 1, not named: 0, none: .5
    "similarity",          # embedding cosine of the question to the sentence (multilingual-e5, query/passage prefixes)
    "similarity_lead",     # that cosine minus the best of the next four rivals by score (as margin's)
    "reader",              # the answer reader's probability that the sentence states the answer (reader.py)
)


def features(r: Ranking, *, unmet: int = 0, cosine: bool | None = None) -> list[float]:
    """The feature vector of a ranking's best sentence (in ``FEATURES`` order).

    ``cosine``: compute the embedding features (default: for a Chinese question only; the English model reads
    them for English questions)."""
    from bot.extractive import _has_new_number, _term_match

    best = r.best
    terms = r.terms
    total = sum(t.weight for t in terms) or 1.0
    heaviest = max((t.weight for t in terms), default=1.0) or 1.0
    sent = normalize(best.text)
    chunk = normalize(r.chunks[best.chunk_n - 1].page_content) if r.chunks else sent
    sentence_cov = sum(t.weight * _term_match(t, sent) for t in terms) / total
    chunk_cov = sum(t.weight * _term_match(t, chunk) for t in terms) / total
    missing = [t for t in terms if t.text in best.missing]
    others = [c.score for c in r.rivals()]
    margin = best.score - max(others) if others else 1.0
    # no embedder: the model reads its training means.  Nor for an English question read by the Chinese model: it
    # and a Chinese sentence score lower than two Chinese texts that say the same, which only English rows can teach
    similarity = (r.similarity() if (not r.cross if cosine is None else cosine) else None) or (math.nan, math.nan)
    return [
        best.coverage,
        sentence_cov,
        chunk_cov,
        sum(t.weight for t in missing) / total,
        max((t.weight for t in missing), default=0.0) / heaviest,
        math.log1p(len(terms)),
        1.0 / best.chunk_n,
        max(-1.0, min(1.0, margin)),
        math.log(max(len(best.text), 1)),
        float(r.wants_number),
        float(r.wants_date),
        float(_has_new_number(best.text, r.question)),
        float(unmet),
        math.log1p(_support(r)),
        _asked_said(r, sent),
        *similarity,
        math.nan if best.read is None else best.read,  # not read: no reader
    ]


def _asked_said(r: Ranking, sent: str) -> float:
    from bot.extractive import _asked_for, _pos_cut, _term_match, asked_for_en

    by_text = {t.text: t for t in r.terms}
    wanted = asked_for_en(r.question) if r.cross else _asked_for(_pos_cut(normalize(r.question)))
    asked = [by_text[w] for w in wanted if w in by_text]
    if not asked:
        return 0.5
    return float(any(_term_match(t, sent) >= 0.85 for t in asked))


# Kinds of words a question can swap for another of the same kind (jieba POS): a place (ns, and 处所/方位 words),
# an organisation, a person, another proper name, a Latin word, a time, a quantity, a common noun, a verbal noun.
_KINDS = (("ns", "place"), ("s", "place"), ("f", "place"), ("nt", "org"), ("nr", "person"), ("nz", "name"),
          ("eng", "latin"), ("m", "number"), ("n", "noun"), ("vn", "verbal noun"), ("j", "noun"))
# times are recognised by their form (jieba tags words such as 前往 as times too)
_TIME = re.compile(r"\d{1,4}\s*[年月日]|[一二三四五六七八九十]+月|^[上下本今去明前后当同次全]年$|^[上下本]月$|半年$|^[年月]$")
# an office a person holds (董事长, 总经理, 市长, 主任): Chinese morphology of titles — 长 after the unit headed (董事,
# 市, 校 …; not 全长, 增长), or a title morpheme of its own
_TITLE = re.compile(r"(?:[事市省县区镇乡村校院局部处科厅所行社会组队团站馆司署]长|经理|书记|主任|主席|总监|总裁|秘书长|"
                    r"理事|董事|委员|负责人|主管|总工程师)$")
# the level of government a rule or award belongs to (国家 / 国际 / 省级 / 市级 …): a place as much as 四川省 is, so a
# question about a provincial award is not answered by the national one (its levels: the PRC's administrative
# hierarchy, 中央 to 镇, and 国际 above it; docs/answerability.md, "Levels of government")
_LEVEL = re.compile(r"(?:国际|国家|全国|中央|省|市|县|区|乡|镇)级?")
# tokens that do not break adjacency between two words: particles, prepositions, conjunctions, punctuation
# (对…的企业, 国际、国家)
_GLUE = ("u", "p", "c", "x", "w")
_BREAKS = re.compile(r"[,，。;；:：!！?？()（）\[\]【】]")
BREAK = "|"
_TITLED = re.compile(r"《[^》]*》")


def _title_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` quotes a 《title》: words inside it name a work, they are not words of the sentence."""
    return [(m.start(), m.end()) for m in _TITLED.finditer(text)]


def _kind(word: str, flag: str) -> str | None:
    if _TIME.search(word):
        return "time"
    if _LEVEL.fullmatch(word):
        return "place"
    if flag.startswith("n") and _TITLE.search(word):
        return "title"
    if flag.startswith("t"):
        return None
    if flag.startswith("m") and not re.search(r"[\d一二三四五六七八九十百千万两]", word):
        return None  # jieba's guess for an unknown word (a foreign name), not a quantity
    if flag == "eng" and re.fullmatch(r"[\d.,%]+", word):
        return "number"  # jieba tags some numbers as English (10 of 3亿元、5亿元、10亿元): not a Latin name
    for prefix, kind in _KINDS:
        if flag.startswith(prefix):
            return kind
    return None


def _words(text: str) -> list[tuple[str, str, int]]:
    """Content words of ``text`` (NFKC, lower case) with their offsets; a number and its unit are one word (11月).

    A clause break (comma, full stop, bracket …; not the list comma 、) is kept as the word ``BREAK``: no word is
    aligned across it.
    """
    from bot.extractive import _pos_cut

    out: list[tuple[str, str, int]] = []
    pos = 0
    for word, flag in _pos_cut(text):
        at, pos = pos, pos + len(word)
        word = word.strip()
        if word and _BREAKS.search(word):
            out.append((BREAK, BREAK, at))
            continue
        if not word or flag.startswith(_GLUE) or not re.search(r"[\w\u3400-\u9fff]", word):
            continue
        if out and flag == "m" and out[-1][1] == "m" and out[-1][2] + len(out[-1][0]) == at and out[-1][0][-1].isdigit():
            out[-1] = (out[-1][0] + word, "m", out[-1][2])
            continue
        out.append((word, flag, at))
    return out


def _counterparts(anchor: str, side: int, sentence: str, swords: list[tuple[str, str, int]]) -> list[tuple[str, str]]:
    """The sentence's content word right after (side 1: before) ``anchor``, or after its end (before its start).

    Only an anchor the sentence states once (outside 《titles》) aligns: with several, the place is ambiguous.
    """
    pieces = [anchor[i:] if side < 0 else anchor[: len(anchor) - i] for i in range(max(1, len(anchor) - 1))]
    found = next((p for p in pieces if p in sentence), None)
    if found is None:
        return []
    titles = _title_spans(sentence)  # a word inside a document's title is part of its name, not a place in the sentence
    spots = [m for m in re.finditer(re.escape(found), sentence) if not any(a < m.start() < b for a, b in titles)]
    if len(spots) != 1:
        return []
    m = spots[0]
    if side < 0:  # the anchor precedes the term: the word after it
        near = [w for w in swords if w[2] >= m.end()][:1]
    else:
        near = [w for w in swords if w[2] + len(w[0]) <= m.start()][-1:]
    return [w[:2] for w in near if w[1] != BREAK]


def _same_number(a: str, b: str) -> bool:
    """第八 and 第8名 state one number (the digits of both, Chinese numerals read); so do 六成 and 60%."""
    from bot.answerability.constraints import in_digits, shares

    first, second = (re.sub(r"\D", "", in_digits(w)) for w in (a, b))
    if first and first != second and (share := shares(a) or shares(b)):
        return share == (second if shares(a) else first)  # 六成 and 60%
    return bool(first) and first == second


def _wider(qwords: list[tuple[str, str, int]], j: int, side: int) -> str:
    """The anchor ``qwords[j]`` with the question word on its far side when the two are adjacent (研究中心 for 中心,
    which a sentence may state more than once); "" when there is none."""
    k = j + side
    if not 0 <= k < len(qwords) or qwords[k][1] == BREAK:
        return ""
    (a, _, at), (b, _, bt) = sorted((qwords[j], qwords[k]), key=lambda w: w[2])
    return a + b if at + len(a) == bt else ""


def swapped_terms(r: Ranking) -> list[Term]:
    """The question terms of ``swaps(r)``."""
    return [t for t, _ in swaps(r)]


def swaps(r: Ranking, *, detail: bool = False) -> list:
    """Question terms whose place in the best sentence holds another word of the same kind, with that word.

    Each question term the sentence does not contain is aligned through its neighbour: the content word just
    before it in the question (or just after), found in the sentence, points at the sentence's word in the same
    place.  When that word is of the same kind (place, organisation, name, time, number, noun) and the question
    does not use it, the sentence speaks of something else: 企业 where 高校 was asked, 11月 where 全年 was.
    With ``detail``, each as (term, the sentence's word, kind, whether the retrieved passages use the question's word
    elsewhere, the question's word — which the term may be only a piece of: 半年 of 下半年).
    """
    from bot.answerability.constraints import meets_share_bound, shares
    from bot.extractive import _asked_for, _pos_cut, _term_match

    if r.cross:
        return []
    question = unicodedata.normalize("NFKC", r.question).lower()
    sentence = unicodedata.normalize("NFKC", r.best.text).lower()
    qwords, swords = _words(question), _words(sentence)
    titled = _title_spans(question)  # a title names, it sets nothing
    sent = normalize(r.best.text)
    asked = _asked_for(_pos_cut(question))
    by_text = {t.text: t for t in r.terms}
    out: list = []
    for i, (word, flag, at) in enumerate(qwords):
        if any(a <= at < b for a, b in titled):
            continue
        kind = _kind(word, flag)
        # the term as the engine weighs it (a word the corpus cut otherwise is weighed by its pieces)
        term = by_text.get(word) or next((t for t in r.terms if t.text in word and len(t.text) >= 2), None)
        # a term that is only a piece of the word (半年 of 下半年, when the corpus lacks 下半年) does not vouch for it
        said = word in sentence or (term is not None and term.text == word and _term_match(term, sent) >= 0.85)
        if term is None or kind is None or word in asked or said:
            continue
        for side in (-1, 1):
            j = i + side
            if not 0 <= j < len(qwords) or qwords[j][1] == BREAK or (len(qwords[j][0]) < 2 and not qwords[j][0].isdigit()):
                continue
            wider = _wider(qwords, j, side)  # when the anchor alone is stated more than once
            near = (_counterparts(qwords[j][0], side, sentence, swords)
                    or (_counterparts(wider, side, sentence, swords) if wider else []))
            other = next((w for w, f in near if _kind(w, f) == kind and w not in question and word not in w
                          and w not in word and not _same_number(word, w)), None)
            if other is not None and shares(word) and meets_share_bound(word, sentence):
                other = None  # 七成 where the sentence sets 60%以上: the share meets the bound (the bound check reads it)
            if other is not None:
                if all(t[0] is not term for t in out):
                    if detail:
                        # the question's word, or the piece the engine weighs it by when the sentence lacks that
                        # too (农业 of 农业产业), used elsewhere in the retrieved passages
                        piece = term.text if term.text not in sentence else word
                        elsewhere = any(word in normalize(c.page_content) or piece in normalize(c.page_content)
                                        for c in r.chunks)
                        out.append((term, other, kind, elsewhere, word))
                    else:
                        out.append((term, other))
                break
    return out


def _support(r: Ranking) -> int:
    """How many other retrieved chunks repeat a number the best sentence states (and the question does not)."""
    from bot.extractive import _figures

    numbers = _figures(r.best.text, r.question, years=True)
    if not numbers:
        return 0
    return sum(1 for i, c in enumerate(r.chunks, 1)
               if i != r.best.chunk_n and any(n in normalize(c.page_content) for n in numbers))


@dataclass(frozen=True)
class Model:
    """Standardised logistic regression: p = σ(b + Σ wᵢ·(xᵢ − μᵢ)/σᵢ)."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    min_coverage: float = 0.0  # a floor under the model, for inputs unlike its training data (a one-sentence corpus)
    # an English question's threshold, chosen on English questions (the model is fitted on Chinese ones only)
    cross_threshold: float | None = None
    # the model English questions are decided by: fitted on English questions (with the embedding features), its
    # own threshold; without it they are read by this one, at ``cross_threshold``
    cross: Model | None = None

    def threshold_for(self, *, cross: bool) -> float:
        """The threshold a question is decided at: English questions (``cross``) have their own."""
        if cross and self.cross is not None:
            return self.cross.threshold
        return self.cross_threshold if cross and self.cross_threshold is not None else self.threshold

    def floor_for(self, *, cross: bool) -> float:
        """The coverage below which a question is refused before the model (English questions: the English model's,
        chosen on English questions — dictionary translations cover an English question more loosely)."""
        return self.cross.min_coverage if cross and self.cross is not None else self.min_coverage

    def probability(self, r: Ranking, *, unmet: int = 0) -> float:
        """Estimated probability that ``r.best`` answers the question (an English one by the English model)."""
        if r.cross and self.cross is not None:
            return self.cross.predict(features(r, unmet=unmet, cosine=True))
        return self.predict(features(r, unmet=unmet))

    def predict(self, x: list[float]) -> float:
        """A feature that could not be computed (NaN) counts as its training mean."""
        z = self.intercept + sum(w * (v - m) / s for w, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)
                                 if not math.isnan(v))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Model:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: trained on features {data['features']}, the code computes {list(FEATURES)}; "
                             "retrain with python -m bot.answerability.train")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        return cls(names=tuple(data["features"]), mean=tuple(data["mean"]), scale=tuple(data["scale"]),
                   coef=tuple(data["coef"]), intercept=float(data["intercept"]), threshold=float(data["threshold"]),
                   min_coverage=float(data.get("min_coverage", 0.0)),
                   cross_threshold=None if data.get("cross_threshold") is None else float(data["cross_threshold"]),
                   cross=cls.from_dict({"features": data["features"], **data["cross"]}) if data.get("cross") else None)

    def to_dict(self) -> dict:
        """The weights as ``model.json`` holds them (``from_dict`` reads them back)."""
        out = {"features": list(self.names), "mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef),
               "intercept": self.intercept, "threshold": self.threshold, "min_coverage": self.min_coverage}
        if self.cross_threshold is not None:
            out["cross_threshold"] = self.cross_threshold
        if self.cross is not None:
            out["cross"] = {k: v for k, v in self.cross.to_dict().items() if k != "features"}
        return out


@lru_cache(maxsize=1)
def model() -> Model:
    """The shipped model (read once)."""
    return Model.load()
