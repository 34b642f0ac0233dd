"""Article-level grading for statute questions: cases naming ``gold_articles`` as ``《title》第N条``.

Retrieval is judged by article, not by chunk: the ranked chunks are folded into
a ranked list of distinct articles (a long article cut at its 款 counts once, at
its best piece), and hit@k / recall@k / MRR are read from that list.  The
answer is judged by whether one of its citations names a gold article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from bot.evaluation.metrics import CaseResult, Check, share

DEPTHS = (1, 5, 10, 100)
_NAME = re.compile(r"^《(?P<title>[^》]+)》\s*(?P<article>第\S+条(?:之\S+)?)$")


class ArticleCheck(Check):
    """Where each gold article was found (1-based rank among distinct articles; None = not within the depth)."""

    ranks: list[int | None] = Field(default_factory=list)
    depth: int = 100
    cites_gold: bool = False


class ArticleSummary(BaseModel):
    """Article-level retrieval and citation metrics over cases with ``gold_articles``."""

    cases: int
    depth: int
    hit_at: dict[int, float | None] = Field(description="Share of cases with a gold article in the top k.")
    recall_at: dict[int, float | None] = Field(description="Mean share of a case's gold articles in the top k.")
    mrr: float | None
    cites_gold_article: float | None = Field(description="Share of cases whose answer cites a gold article.")


def canonical(name: str) -> str:
    """``《title》第N条`` with whitespace removed and the title cut at its first space (as the corpus titles it)."""
    match = _NAME.match(name.strip())
    if not match:
        return "".join(name.split())
    title = match.group("title").split()[0]
    return f"《{title}》{''.join(match.group('article').split())}"


def check_name(name: str) -> str:
    """Validate a gold article name; raises ``ValueError`` saying the expected form."""
    if not _NAME.match(name.strip()):
        raise ValueError(f"gold article '{name}' is not of the form 《title》第N条, e.g. 《中华人民共和国民法典》第五十四条")
    return name


def ranked_articles(names: Iterable[str]) -> list[str]:
    """Distinct article names in order of first appearance (chunks outside articles are skipped)."""
    seen: dict[str, None] = {}
    for name in names:
        if name:
            seen.setdefault(canonical(name), None)
    return list(seen)


def article_check(gold: Sequence[str], ranked: Sequence[str], cited: Iterable[str], *, depth: int) -> ArticleCheck:
    """Grade one case: the rank of each gold article in ``ranked`` and whether ``cited`` names one."""
    wanted = [canonical(g) for g in gold]
    position = {name: i for i, name in enumerate(ranked[:depth], 1)}
    ranks = [position.get(g) for g in wanted]
    cites = any(canonical(c) in set(wanted) for c in cited if c)
    found = [r for r in ranks if r is not None]
    detail = (f"best gold article at rank {min(found)} of {depth}" if found
              else f"no gold article in the top {depth}") + ("; the answer cites a gold article" if cites else "")
    return ArticleCheck(passed=bool(found), detail=detail, ranks=ranks, depth=depth, cites_gold=cites)


def summarize_articles(results: Sequence[CaseResult]) -> ArticleSummary | None:
    """Hit@k, recall@k, MRR and gold-citation rate over the cases graded by article."""
    checks = [c for r in results if isinstance(c := r.checks.get("articles"), ArticleCheck)]
    if not checks:
        return None
    depth = max(c.depth for c in checks)

    def best(c: ArticleCheck) -> int | None:
        return min((r for r in c.ranks if r is not None), default=None)

    return ArticleSummary(
        cases=len(checks), depth=depth,
        hit_at={k: share([(b := best(c)) is not None and b <= k for c in checks]) for k in DEPTHS if k <= depth},
        recall_at={k: _mean([sum(r is not None and r <= k for r in c.ranks) / len(c.ranks) for c in checks if c.ranks])
                   for k in DEPTHS if k <= depth},
        mrr=_mean([1 / b if (b := best(c)) else 0.0 for c in checks]),
        cites_gold_article=share([c.cites_gold for c in checks]),
    )


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summary_lines(summary: ArticleSummary) -> list[str]:
    """The article block of the terminal table."""
    lines = [f"article level ({summary.cases} cases, ranked to depth {summary.depth}):"]
    lines += [f"  hit@{k:<4}{v:>8.1%}" for k, v in summary.hit_at.items() if v is not None]
    lines += [f"  recall@{k:<4}{v:>5.1%}" for k, v in summary.recall_at.items() if v is not None]
    if summary.mrr is not None:
        lines.append(f"  MRR      {summary.mrr:>7.3f}")
    if summary.cites_gold_article is not None:
        lines.append(f"  answer cites a gold article {summary.cites_gold_article:.1%}")
    return lines
