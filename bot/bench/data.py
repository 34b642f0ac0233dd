"""The benchmark question sets (CMRC dev, RGB zh) and their passage corpora, whole or sliced.

The data lives beside the repository in ``../shared/bench`` (third-party,
never copied in); a slice for the smoke run is written into the work folder.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from bot.errors import CorpusError
from bot.settings import PROJECT_ROOT

BENCH_ROOT = PROJECT_ROOT.parent / "shared" / "bench"
FILES = {
    "cmrc": ("cmrc_dev_corpus.jsonl", ("cmrc_dev_part1.jsonl", "cmrc_dev_part2.jsonl")),
    "rgb": ("rgb_zh_corpus.jsonl", ("rgb_zh.jsonl",)),
}


@dataclass(frozen=True)
class Passage:
    id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold: tuple[str, ...]
    pool: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenchSet:
    """One question set with the passage pool it is asked against."""

    name: str
    corpus: Path
    passages: list[Passage]
    questions: list[Question]


def available(root: Path = BENCH_ROOT) -> bool:
    """True when every benchmark file is present."""
    return all((root / f).is_file() for corpus, qs in FILES.values() for f in (corpus, *qs))


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_set(name: str, *, root: Path = BENCH_ROOT) -> BenchSet:
    """A whole set as published."""
    corpus_file, question_files = FILES[name]
    if not (root / corpus_file).is_file():
        raise CorpusError(f"{root / corpus_file} not found — the benchmark data belongs in {root}")
    passages = [Passage(id=str(r["id"]), text=r["text"], title=r.get("title", "")) for r in _read_jsonl(root / corpus_file)]
    questions = [Question(id=str(r["id"]), text=r["question"], gold=tuple(str(g) for g in r["gold_passage_ids"]),
                          pool=tuple(str(p["id"]) for p in r.get("passages") or []))
                 for f in question_files for r in _read_jsonl(root / f) if r.get("gold_passage_ids")]
    return BenchSet(name=name, corpus=root / corpus_file, passages=passages, questions=questions)


def write_corpus(passages: list[Passage], path: Path) -> Path:
    """A passage ``.jsonl`` the engine ingests (one document per passage, ids kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for p in passages:
            row = {"id": p.id, "text": p.text, **({"title": p.title} if p.title else {})}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def slice_set(full: BenchSet, *, questions: int, distractors: int, workdir: Path, seed: int = 7) -> BenchSet:
    """A small set: ``questions`` questions, their gold passages and some other passages.

    Questions whose gold passages are in the slice keep their gold ids, so
    recall stays meaningful on the slice.
    """
    rng = random.Random(seed)
    picked = rng.sample(full.questions, min(questions, len(full.questions)))
    gold = {g for q in picked for g in q.gold}
    others = [p for p in full.passages if p.id not in gold]
    keep = gold | {p.id for p in rng.sample(others, min(distractors, len(others)))}
    passages = [p for p in full.passages if p.id in keep]
    corpus = write_corpus(passages, workdir / f"{full.name}-slice.jsonl")
    return BenchSet(name=full.name, corpus=corpus, passages=passages, questions=picked)


def head_set(full: BenchSet, *, questions: int, workdir: Path) -> BenchSet:
    """The first ``questions`` questions with every passage listed for them (gold and noise), in corpus order.

    For a set such as RGB whose questions each come with their own passage
    pool, this is the published set cut short, not a new mix.
    """
    picked = full.questions[:questions]
    keep = {p for q in picked for p in (*q.pool, *q.gold)}
    passages = [p for p in full.passages if p.id in keep]
    corpus = write_corpus(passages, workdir / f"{full.name}-first{questions}.jsonl")
    return BenchSet(name=full.name, corpus=corpus, passages=passages, questions=picked)


def replicate(passages: list[Passage], copies: int) -> list[Passage]:
    """The passages plus ``copies`` re-uses of each under new ids (``{id}@r{n}``), same text.

    Same text means the same embedding, so a bigger corpus is built from
    vectors already in the embedding cache.
    """
    out = list(passages)
    for n in range(1, copies + 1):
        out += [Passage(id=f"{p.id}@r{n}", text=p.text, title=p.title) for p in passages]
    return out


def base_id(passage_id: str) -> str:
    """The original passage id of a re-used copy."""
    return passage_id.split("@r", 1)[0]
