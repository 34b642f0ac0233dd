"""Train the provisions model (``bot.answerability.provisions``): ``python -m bot.answerability.provisions_train``.

Needs the statute library ingested into ``BOT_DATA_DIR`` (``python -m bot ingest ../shared/bench/statutes/corpus``).
Rows, each through the product's own retrieval (``Engine.retriever``, k as configured) and sentence ranking:

* the statute questions (``../shared/bench/statutes/train.jsonl``, STARD, MIT): training split → training rows,
  validation split (``sha1(id) % 5 == 0``) → validation rows; label: a gold article is among the first N distinct
  articles the answer would quote;
* out-of-scope questions asked of the same library, label 0 (nothing in a statute library answers them): CMRC 2018
  dev part 1 (training) / part 2 (validation), the first ``--ood`` of each (Chinese Wikipedia, CC BY-SA 4.0), and
  RGB zh even / odd questions (news, CC BY-NC-SA 4.0).

A standardised logistic regression (scikit-learn) is fitted per N ∈ {1, 2, 3}; N and the threshold are the pair
that maximise, on the validation rows, ``cites gold − WRONG·(statute answers citing no gold article) −
OUT_OF_SCOPE·(out-of-scope questions answered)``. Writes ``bot/answerability/provisions.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bot.answerability.provisions import FEATURES, MODEL_PATH, features
from bot.answerability.train import jsonl
from bot.evaluation.articles import canonical
from bot.evaluation.statutes import split_of
from bot.structure import article_name, is_article

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "bench"
# An answer quoting articles a lawyer would not cite is related law, not an invented fact; on the validation split
# the model cannot tell those apart from answers citing a gold article (precision 0.68-0.75 at every threshold), only
# questions the library has nothing on, so the default cost is small.
WRONG = 0.25
OUT_OF_SCOPE = 2.0  # answering a question the library has nothing on is the confident wrong answer
MAX_ARTICLES = 3


def collect(engine, bench: Path, *, ood: int) -> list[dict]:
    retriever = engine.retriever()
    answerer = engine.answerer()
    rows: list[dict] = []

    def row(question: str, gold: list[str] | None, split: str, kind: str) -> None:
        chunks = [c for c in retriever.search(question) if is_article(c)]  # what the provisions answer reads
        ranking = answerer.rank(question, chunks) if chunks else None
        if ranking is None:
            return
        names = list(dict.fromkeys(n for c in chunks if (n := article_name(c.metadata))))
        wanted = {canonical(g) for g in gold or []}
        hits = [any(canonical(n) in wanted for n in names[:k]) for k in range(1, MAX_ARTICLES + 1)]
        rows.append({"x": features(ranking), "hits": hits, "split": split, "set": kind})

    t0 = time.time()
    for case in jsonl(bench / "statutes" / "train.jsonl"):
        row(case["question"], case["gold_articles"], split_of(str(case["id"])), "statute")
    print(f"statute questions: {len(rows)} rows, {time.time() - t0:.0f}s", file=sys.stderr)
    for name, split in (("cmrc_dev_part1.jsonl", "train"), ("cmrc_dev_part2.jsonl", "validation")):
        for case in jsonl(bench / name)[:ood]:
            row(case["question"], None, split, "cmrc")
    for i, case in enumerate(jsonl(bench / "rgb_zh.jsonl")):
        row(case["question"], None, "train" if i % 2 == 0 else "validation", "rgb")
    print(f"all: {len(rows)} rows, {time.time() - t0:.0f}s", file=sys.stderr)
    return rows


def gain(answered: list[dict], n: int, wrong: float = WRONG) -> float:
    return sum(r["hits"][n - 1] if r["set"] == "statute" else 0.0 for r in answered) - sum(
        wrong if r["set"] == "statute" and not r["hits"][n - 1] else OUT_OF_SCOPE if r["set"] != "statute" else 0.0
        for r in answered)


def summary(rows: list[dict], probs: np.ndarray, threshold: float, n: int) -> dict:
    statute = [(r, p) for r, p in zip(rows, probs, strict=True) if r["set"] == "statute"]
    other = [(r, p) for r, p in zip(rows, probs, strict=True) if r["set"] != "statute"]
    answered = [r for r, p in statute if p >= threshold]
    return {"statute_questions": len(statute), "answered": round(len(answered) / max(1, len(statute)), 3),
            "cites_gold": round(sum(r["hits"][n - 1] for r in answered) / max(1, len(statute)), 3),
            "cites_gold_if_never_refused": round(sum(r["hits"][n - 1] for r, _ in statute) / max(1, len(statute)), 3),
            "out_of_scope_questions": len(other),
            "out_of_scope_answered": round(sum(p >= threshold for _, p in other) / max(1, len(other)), 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", type=Path, default=BENCH)
    ap.add_argument("--ood", type=int, default=400, help="CMRC questions per split (default 400)")
    ap.add_argument("--rows", type=Path, default=Path("/tmp/provisions-rows.json"), help="collected rows (reused)")
    ap.add_argument("--recollect", action="store_true")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--wrong-cost", type=float, default=WRONG, help=f"cost of an answer citing no gold article "
                    f"(default {WRONG}; an out-of-scope answer costs {OUT_OF_SCOPE}, a gold citation gains 1)")
    args = ap.parse_args(argv)
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if args.recollect or not args.rows.exists():
        from bot.engine import Engine

        engine = Engine()
        if not engine.index.count():
            ap.error(f"{engine.settings.data_dir}: empty index — ingest ../shared/bench/statutes/corpus first")
        args.rows.write_text(json.dumps(collect(engine, args.bench, ood=args.ood)), encoding="utf-8")
    rows = json.loads(args.rows.read_text(encoding="utf-8"))
    train = [r for r in rows if r["split"] == "train"]
    val = [r for r in rows if r["split"] == "validation"]
    x = np.array([r["x"] for r in train])
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    best: tuple[float, int, float, LogisticRegression] | None = None
    for n in range(1, MAX_ARTICLES + 1):
        y = np.array([int(r["hits"][n - 1]) if r["set"] == "statute" else 0 for r in train])
        lr = LogisticRegression(C=1.0, max_iter=1000).fit((x - scaler.mean_) / scale, y)
        pv = lr.predict_proba((np.array([r["x"] for r in val]) - scaler.mean_) / scale)[:, 1]
        for t in np.arange(0.05, 0.95, 0.01):
            g = gain([r for r, p in zip(val, pv, strict=True) if p >= t], n, args.wrong_cost)
            if best is None or g > best[0]:
                best = (g, n, float(t), lr)
        if best is not None:
            print(f"N={n}: best so far {best[:3]}", file=sys.stderr)
    assert best is not None
    _, n, threshold, lr = best
    figures = {}
    for name, part in (("train", train), ("validation", val)):
        probs = lr.predict_proba((np.array([r["x"] for r in part]) - scaler.mean_) / scale)[:, 1]
        figures[name] = summary(part, probs, threshold, n)
    doc = {"features": list(FEATURES), "weights": lr.coef_[0].round(6).tolist(), "bias": round(float(lr.intercept_[0]), 6),
           "means": scaler.mean_.round(6).tolist(), "scales": scale.round(6).tolist(), "threshold": round(threshold, 2),
           "articles": n, "objective": f"cites gold - {args.wrong_cost} x answered without gold - {OUT_OF_SCOPE} x out of scope answered",
           "figures": figures,
           "data": "STARD (MIT) training split; CMRC 2018 dev (CC BY-SA 4.0) and RGB zh (CC BY-NC-SA 4.0) as out-of-scope"}
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=1))
    print(f"wrote {args.out}: N={n}, threshold {threshold:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
