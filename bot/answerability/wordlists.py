"""Does each synonym entry earn its place?  ``python -m bot.answerability.wordlists [--write]``.

For every entry of ``bot/data/synonyms.tsv`` the training questions whose text contains the entry's word
(CMRC 2018 dev part 1; RGB zh even questions, over all their passages and over their noise passages only) are
answered with and without the entry, through the same pipeline as ``train.py`` and the shipped model.  The entry
earns its place when removing it lowers ``correct − COST·wrong``.  ``--write`` records the result in the evidence
column and comments out the entries that did not earn their place.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import extractive
from bot.answerability import model
from bot.answerability.train import BENCH, COST, Corpus, decide, jsonl, row

Question = tuple[Corpus, str, list[list[str]], list[int] | None, bool]


def _questions(bench: Path) -> list[Question]:
    cmrc, rgb = Corpus(bench / "cmrc_dev_corpus.jsonl"), Corpus(bench / "rgb_zh_corpus.jsonl")
    out: list[Question] = []
    for case in jsonl(bench / "cmrc_dev_part1.jsonl"):
        out.append((cmrc, case["question"], case["answer_groups"], None, True))
    for i, case in enumerate(jsonl(bench / "rgb_zh.jsonl")):
        if i % 2:
            continue
        every = [j for p in case["passages"] for j in rgb.by_doc.get(p["id"], [])]
        noise = [j for p in case["passages"] if p.get("label") == "negative" for j in rgb.by_doc.get(p["id"], [])]
        out.append((rgb, case["question"], case["answer_groups"], every, True))
        out.append((rgb, case["question"], case["answer_groups"], noise, False))
    return out


def utility(questions) -> tuple[int, int]:
    """(correct, wrong) answers over ``questions``."""
    correct = wrong = 0
    for corpus, question, groups, allowed, answerable in questions:
        r = row(corpus, question, groups, allowed=allowed, answerable=answerable)
        if decide(model(), r, model().threshold)[0]:
            correct += r["label"]
            wrong += 1 - r["label"]
    return correct, wrong


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", type=Path, default=BENCH)
    ap.add_argument("--write", action="store_true", help="record the evidence in bot/data/synonyms.tsv")
    args = ap.parse_args(argv)
    questions = _questions(args.bench)
    full = dict(extractive.SYNONYMS)
    verdicts = {}
    for word in full:
        hit = [q for q in questions if word in q[1].lower()]
        if not hit:
            verdicts[word] = (False, "no training question uses it")
            continue
        with_c, with_w = utility(hit)
        extractive.SYNONYMS.clear()
        extractive.SYNONYMS.update({k: v for k, v in full.items() if k != word})
        without_c, without_w = utility(hit)
        extractive.SYNONYMS.clear()
        extractive.SYNONYMS.update(full)
        gain = (with_c - COST * with_w) - (without_c - COST * without_w)
        verdicts[word] = (gain > 0, f"{len(hit)} training questions; with it {with_c} right {with_w} wrong, "
                                    f"without {without_c} right {without_w} wrong (gain {gain:+g})")
        print(word, verdicts[word], flush=True)
    if args.write:
        path = extractive.SYNONYMS_PATH
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            body = line.removeprefix("# removed: ")
            word = body.split("\t")[0]
            if body.startswith("#") or "\t" not in body or word not in verdicts:
                lines.append(line)
                continue
            keep, evidence = verdicts[word]
            cols = body.split("\t")
            cols[3:] = [evidence]
            lines.append(("" if keep else "# removed: ") + "\t".join(cols))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
