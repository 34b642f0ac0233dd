"""Statute question sets: a fixed train/validation split and a reduced library for quick experiments.

The split is by a hash of each question's id (``sha1(id) % 5 == 0`` → validation), so it is fixed,
needs no seed, and a question keeps its side when the file grows.  The reduced library keeps every
document's front matter, history and headings but only some articles: the gold articles of the given
questions plus a fixed-seed sample of the others (embedding the whole library takes hours on two cores).

``python -m bot.evaluation.statutes reduce QUESTIONS.jsonl CORPUS OUT --others 3000``
``python -m bot.evaluation.statutes keyword QUESTIONS.jsonl CORPUS --split validation``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import Iterable
from pathlib import Path

from bot.chunking import split_document
from bot.evaluation.articles import ranked_articles
from bot.loaders import load_paths
from bot.structure import article_name

SPLITS = ("train", "validation")


def split_of(case_id: str) -> str:
    """``"validation"`` for one question in five (by id hash), else ``"train"``."""
    return "validation" if int(hashlib.sha1(case_id.encode()).hexdigest(), 16) % 5 == 0 else "train"


def in_split(rows: Iterable[dict], split: str | None) -> list[dict]:
    """The rows of one side of the split (all rows for ``None``)."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split '{split}' — use one of {', '.join(SPLITS)}")
    return [r for r in rows if split is None or split_of(str(r.get("id", ""))) == split]


def reduce_library(questions: Path, corpus: Path, out: Path, *, others: int, seed: int = 0, split: str | None = None,
                   same_documents: bool = False) -> tuple[int, int]:
    """Write a copy of ``corpus`` keeping the gold articles of ``questions`` plus ``others`` random articles.

    ``split`` keeps only that side's gold articles; ``same_documents`` draws the others only from
    documents that hold a gold article (the hardest distractors, and fewer documents to embed).
    Returns (documents written, articles kept).
    """
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = {g for row in in_split(rows, split) for g in row.get("gold_articles", [])}
    loaded = load_paths([corpus], root=corpus)
    names = {d.metadata["doc_id"]: {article_name(c.metadata) for c in split_document(d)} - {""}
             for d in loaded.documents}
    pool = [n for found in names.values() if not same_documents or found & gold for n in found]
    rest = sorted(set(pool) - gold)
    keep = gold | set(random.Random(seed).sample(rest, min(others, len(rest))))
    docs = kept = 0
    for doc in loaded.documents:
        src = Path(doc.metadata["path"])
        text = src.read_text(encoding="utf-8-sig")
        body = doc.page_content
        chunks = split_document(doc)
        drop = [c for c in chunks if c.metadata.get("article") and article_name(c.metadata) not in keep]
        if len(drop) == sum(1 for c in chunks if c.metadata.get("article")):
            continue
        for c in sorted(drop, key=lambda c: -c.metadata["start"]):
            piece = body[c.metadata["start"] : c.metadata["end"]]
            # headings attached above a dropped article stay
            lines = piece.split("\n")
            heads = [ln for ln in lines if ln.startswith("#")]
            body = body[: c.metadata["start"]] + "\n\n".join(heads) + body[c.metadata["end"] :]
        kept += len({article_name(c.metadata) for c in chunks if c.metadata.get("article")} & keep)
        front = text[: text.find(doc.page_content[:40])] if doc.page_content[:40] in text else ""
        target = out / src.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(front + body, encoding="utf-8")
        docs += 1
    return docs, kept


def keyword_only(questions: Path, corpus: Path, *, split: str | None) -> dict[str, float | None]:
    """Article-level metrics of the keyword side alone over a whole library, without embedding anything.

    The same chunks, indexed text (title + path + article) and tokeniser as the bot's BM25 side, so
    the keyword row of a library too large to embed here can still be measured.
    """
    import bm25s
    import numpy as np

    from bot.evaluation.articles import article_check, summarize_articles
    from bot.evaluation.metrics import CaseResult
    from bot.structure import context_line
    from bot.text import tokenize

    chunks = [c for d in load_paths([corpus], root=corpus).documents for c in split_document(d)]
    model = bm25s.BM25()
    model.index([tokenize(f"{context_line(c.metadata)} {c.page_content}") for c in chunks], show_progress=False)
    rows = in_split([json.loads(x) for x in questions.read_text(encoding="utf-8").splitlines() if x.strip()], split)
    results = []
    for row in rows:
        known = [t for t in tokenize(row["question"]) if t in model.vocab_dict]
        scores = np.asarray(model.get_scores(known)) if known else np.zeros(len(chunks))
        top = [i for i in np.argsort(-scores, kind="stable")[:300] if scores[i] > 0]
        ranked = ranked_articles(article_name(chunks[i].metadata) for i in top)
        check = article_check(row["gold_articles"], ranked, [], depth=100)
        results.append(CaseResult(id=row["id"], question=row["question"], answer="", refused=True, passed=False,
                                  checks={"articles": check}, latency_ms=0.0))
    summary = summarize_articles(results)
    assert summary is not None
    return {"cases": summary.cases, **{f"hit@{k}": v for k, v in summary.hit_at.items()},
            **{f"recall@{k}": v for k, v in summary.recall_at.items()}, "mrr": summary.mrr}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.evaluation.statutes", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("reduce", help="write a reduced statute library for quick experiments")
    r.add_argument("questions", type=Path)
    r.add_argument("corpus", type=Path)
    r.add_argument("out", type=Path)
    r.add_argument("--others", type=int, default=3000, help="random non-gold articles to keep")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--split", choices=SPLITS, help="keep only this side's gold articles")
    r.add_argument("--same-documents", action="store_true", help="draw the others from documents holding gold")
    k = sub.add_parser("keyword", help="article-level metrics of the keyword side alone (nothing embedded)")
    k.add_argument("questions", type=Path)
    k.add_argument("corpus", type=Path)
    k.add_argument("--split", choices=SPLITS)
    args = p.parse_args(argv)
    if args.command == "keyword":
        print(json.dumps(keyword_only(args.questions, args.corpus, split=args.split), ensure_ascii=False))
        return 0
    docs, kept = reduce_library(args.questions, args.corpus, args.out, others=args.others, seed=args.seed,
                                split=args.split, same_documents=args.same_documents)
    print(f"wrote {docs} documents with {kept} articles to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
