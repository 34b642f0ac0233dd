"""How the claim check treats gold answer sentences and wrong facts inserted into them.

``python -m bot.bench.claims ../shared/bench/cmrc_dev_part1.jsonl ../shared/bench/rgb_zh.jsonl``

For each case (up to ``--limit``), the passage sentence holding the gold answer is given back as a model
answer citing that passage — once without quotes, once with the answer quoted — and must be kept. Then a
wrong number, an inserted 并未, an added duty and a link are written into it beside the right quote, and
must not be shown.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path

from langchain_core.documents import Document

from bot.citations import check_answer
from bot.text import sentence_spans

INSERTS = {"negation": "并未", "duty": "申请者须先缴纳保证金，", "link": "详见 http://x.example/a ，"}
SHOWN = {"negation": "并未", "duty": "保证金", "link": "http"}


def cases(path: Path) -> Iterator[tuple[str, str]]:
    """``(passage text, gold answer)`` for each case whose answer occurs in one of its passages."""
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        for passage in row.get("passages") or []:
            answer = next((a for a in row.get("answers") or [] if a and a in passage["text"]), None)
            if answer:
                yield passage["text"], answer
                break


def measure(path: Path, *, limit: int) -> dict:
    """Counts of kept gold sentences and of caught wrong facts."""
    counts = {"sentences": 0, "kept_unquoted": 0, "kept_quoted": 0}
    caught = {k: [0, 0] for k in ("number", *INSERTS)}
    for text, answer in cases(path):
        sentence = next((text[s:e] for s, e in sentence_spans(text) if answer in text[s:e]), None)
        if not sentence or len(sentence) > 200:
            continue
        if counts["sentences"] >= limit:
            break
        counts["sentences"] += 1
        source = [Document(page_content=text)]
        body = sentence.rstrip("。！？；!?;…")
        quote = f"「{answer}」" if len(answer) >= 2 else ""
        counts["kept_unquoted"] += bool(check_answer(body + "[1]。", source).text)
        counts["kept_quoted"] += bool(check_answer(f"答案是{quote}，即{body}[1]。", source).text)
        number = re.search(r"\d+(?:\.\d+)?", body)
        if number:
            wrong = str(int(float(number.group()) * 10 + 7))
            shown = check_answer(f"{body[: number.start()]}{wrong}{body[number.end():]}{quote}[1]。", source).text
            caught["number"][0] += 1
            caught["number"][1] += wrong not in shown
        for kind, insert in INSERTS.items():
            mutated = body[: len(body) // 2] + insert + body[len(body) // 2 :] if kind == "negation" else insert + body
            caught[kind][0] += 1
            caught[kind][1] += SHOWN[kind] not in check_answer(f"{mutated}{quote}[1]。", source).text
    return {"file": path.name, **counts, "caught": {k: f"{v[1]}/{v[0]}" for k, v in caught.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="golden .jsonl files with passages (CMRC, RGB)")
    parser.add_argument("--limit", type=int, default=400, help="cases per file")
    args = parser.parse_args()
    for path in args.files:
        print(json.dumps(measure(path, limit=args.limit), ensure_ascii=False))


if __name__ == "__main__":
    main()
