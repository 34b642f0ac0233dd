"""Train the query adapter (``bot.query_adapter``) on the statute questions' training split.

Needs the statute library ingested (``python -m bot ingest ../shared/bench/statutes/corpus``, about 12 minutes on
2 cores) into the data folder given by ``BOT_DATA_DIR``; its chunk vectors are read back from Chroma, so the
adapter learns against exactly the vectors it will search.

Objective: for each training question (``sha1(id) % 5 != 0``, see ``bot.evaluation.statutes``), softmax over all
chunks of the library of ``cos(q + A q, passage) / τ``; the probability mass on the chunks of its gold articles is
maximised (full batch, Adam, ``λ |A|²`` keeps the map near the identity). ``λ`` and the keyword weight used with it
are chosen on the validation split (``--sweep``); the shipped matrix is trained on the training split only.

    python -m bot.query_adapter_train --sweep 0.01,0.1,1 --report reports/query-adapter.json
    python -m bot.query_adapter_train --lam 0.01 --write
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from bot.answerability.train import jsonl
from bot.embeddings import MODEL_NAME
from bot.evaluation.articles import canonical
from bot.evaluation.statutes import split_of
from bot.query_adapter import ADAPTER_PATH, QueryAdapter
from bot.retriever import rrf

QUESTIONS = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "statutes" / "train.jsonl"


def library(engine) -> tuple[list[str], np.ndarray, list[str]]:
    """Chunk ids, vectors and article names (``""`` outside articles) of the ingested library."""
    from bot.structure import article_name

    col = engine.index.collection
    ids: list[str] = []
    vecs: list[np.ndarray] = []
    arts: list[str] = []
    for off in range(0, col.count(), 5000):
        got = col.get(include=["embeddings", "metadatas"], limit=5000, offset=off)
        ids += got["ids"]
        vecs.append(np.asarray(got["embeddings"], dtype=np.float32))
        arts += [canonical(a) if (a := article_name(m)) else "" for m in got["metadatas"]]
    return ids, np.concatenate(vecs), arts


def train(queries: np.ndarray, positives: list[list[int]], passages: np.ndarray, *, lam: float, tau: float = 0.05,
          iters: int = 150, lr: float = 1e-3, log=print) -> np.ndarray:
    """The matrix ``A`` (d × d) maximising the softmax mass on each query's positive passages."""
    keep = [i for i, p in enumerate(positives) if p]
    q, pos = queries[keep], [positives[i] for i in keep]
    d = q.shape[1]
    a = np.zeros((d, d), np.float32)
    m, v = np.zeros_like(a), np.zeros_like(a)
    for it in range(iters):
        moved = q + q @ a.T
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        s = (moved @ passages.T) / tau
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        target = np.zeros_like(p)
        loss = 0.0
        for i, idx in enumerate(pos):
            mass = p[i, idx].sum()
            target[i, idx] = p[i, idx] / mass
            loss -= float(np.log(mass + 1e-12))
        g = (p - target) @ passages / tau / len(pos)  # d loss / d moved
        g -= (g * moved).sum(axis=1, keepdims=True) * moved  # through the normalisation
        grad = g.T @ q + 2 * lam * a
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        a -= lr * (m / (1 - 0.9 ** (it + 1))) / (np.sqrt(v / (1 - 0.999 ** (it + 1))) + 1e-8)
        if it % 25 == 0 or it == iters - 1:
            log(f"  step {it:3d}  loss {loss / len(pos):.3f}")
    return a


def _fold(chunks: list[int], arts: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for c in chunks:
        if arts[c]:
            seen.setdefault(arts[c], None)
    return list(seen)


def metrics(ranked: list[list[str]], gold: list[list[str]]) -> dict[str, float]:
    out: dict[str, list[float]] = defaultdict(list)
    for r, g in zip(ranked, gold, strict=True):
        pos = {a: i for i, a in enumerate(r[:100], 1)}
        found = [pos[x] for x in g if x in pos]
        for k in (1, 5, 10, 100):
            out[f"hit@{k}"].append(float(any(x <= k for x in found)))
        for k in (5, 100):
            out[f"recall@{k}"].append(sum(x <= k for x in found) / len(g))
        out["mrr"].append(1 / min(found) if found else 0.0)
    return {k: round(float(np.mean(v)), 3) for k, v in out.items()}


def rankings(queries: np.ndarray, passages: np.ndarray, keyword: list[list[int]], arts: list[str], gold, *,
             keyword_weight: float) -> dict[str, dict[str, float]]:
    """Dense-only and hybrid (RRF of the top 100 of each side) article metrics."""
    s = queries @ passages.T
    top = np.argpartition(-s, 300, axis=1)[:, :300]
    dense = [list(t[np.argsort(-s[i, t])]) for i, t in enumerate(top)]
    hybrid = [rrf([[str(c) for c in d[:100]], [str(c) for c in kw[:100]]], weights=[1.0, keyword_weight])
              for d, kw in zip(dense, keyword, strict=True)]
    hybrid_ranked = [[int(c) for c in sorted(h, key=lambda c: -h[c])] for h in hybrid]
    return {"dense": metrics([_fold(d, arts) for d in dense], gold),
            f"hybrid (keyword weight {keyword_weight:g})": metrics([_fold(h, arts) for h in hybrid_ranked], gold)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.query_adapter_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--lam", type=float, default=0.01, help="L2 pull towards the identity (default 0.01)")
    parser.add_argument("--sweep", help="comma-separated λ values to compare on the validation split")
    parser.add_argument("--keyword-weights", default="1,0.5,0.3", help="keyword weights for the hybrid rows")
    parser.add_argument("--write", action="store_true", help=f"write the adapter to {ADAPTER_PATH}")
    parser.add_argument("--report", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    if not args.questions.is_file():
        parser.error(f"{args.questions}: not found (the statute questions live in ../shared/bench/statutes)")

    from bot.engine import Engine

    engine = Engine()
    t0 = time.perf_counter()
    ids, passages, arts = library(engine)
    if not any(arts):
        parser.error(f"{engine.settings.data_dir}: no statute articles indexed — ingest ../shared/bench/statutes/corpus")
    rows = jsonl(args.questions)
    where = {c: i for i, c in enumerate(ids)}
    by_article: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(arts):
        if a:
            by_article[a].append(i)
    queries = np.stack([engine.embeddings.embed_query_array(r["question"]) for r in rows]).astype(np.float32)
    gold = [[canonical(g) for g in r["gold_articles"]] for r in rows]
    positives = [[c for g in gs for c in by_article.get(g, [])] for gs in gold]
    keyword = [[where[c] for c, _ in engine.index.keyword_search(r["question"], 100) if c in where] for r in rows]
    train_rows = [i for i, r in enumerate(rows) if split_of(str(r["id"])) == "train"]
    val_rows = [i for i, r in enumerate(rows) if split_of(str(r["id"])) == "validation"]
    print(f"{len(ids)} chunks, {len(train_rows)} training and {len(val_rows)} validation questions "
          f"({time.perf_counter() - t0:.0f} s to read)")
    weights = [float(w) for w in args.keyword_weights.split(",")]

    def report(a: np.ndarray | None) -> dict:
        out = {}
        for name, sel in (("train", train_rows), ("validation", val_rows)):
            q = queries[sel]
            if a is not None:
                q = QueryAdapter(a, {}).adapt(q)
            rows_out: dict[str, dict[str, float]] = {}
            for w in weights:
                rows_out |= rankings(q, passages, [keyword[i] for i in sel], arts, [gold[i] for i in sel],
                                     keyword_weight=w)
            out[name] = rows_out
        return out

    figures: dict = {"without adapter": report(None)}
    lams = [float(x) for x in args.sweep.split(",")] if args.sweep else [args.lam]
    matrix = None
    for lam in lams:
        print(f"λ = {lam:g}")
        matrix = train(queries[train_rows], [positives[i] for i in train_rows], passages, lam=lam)
        figures[f"λ {lam:g}"] = report(matrix)
    for name, fig in figures.items():
        for split, table in fig.items():
            for row, m in table.items():
                print(f"{name:16s} {split:10s} {row:28s} " + "  ".join(f"{k} {v:.3f}" for k, v in m.items()))
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.write and matrix is not None:
        meta = {"lam": lams[-1], "tau": 0.05, "iters": 150, "trained_on": f"{args.questions.name}, training split "
                f"({len(train_rows)} questions; validation = sha1(id) % 5 == 0)", "chunks": len(ids),
                "embedding_model": MODEL_NAME,
                "licence": "STARD questions and articles: MIT", "figures": figures}
        QueryAdapter(matrix, meta).save()
        print(f"wrote {ADAPTER_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
