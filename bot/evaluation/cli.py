"""``python -m bot eval`` (run golden sets, write reports) and ``python -m bot golden`` (add or check cases)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import command, progress_bar
from bot.evaluation.golden import GoldenError, append_case, load_golden, parse_case
from bot.evaluation.report import (
    METRICS,
    compare,
    describe_failure,
    load_baseline,
    parse_threshold,
    table,
    to_html,
    to_json,
    to_junit,
)
from bot.evaluation.runner import RunInfo, open_engine, run_eval, verify_case
from bot.evaluation.statutes import SPLITS, split_of
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval`` and ``golden`` subcommands."""
    p = sub.add_parser("eval", help="run golden question sets against the bot and grade the answers",
                       description="Ask every golden question, grade answers, citations and retrieval, write reports.")
    p.add_argument("golden", nargs="+", type=Path, metavar="GOLDEN", help="golden set(s): .yaml or .jsonl")
    _engine_options(p)
    p.add_argument("--k", type=_positive, help="chunks retrieved per question (default: BOT_K)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help="retrieval (ablation)")
    p.add_argument("--limit", type=_positive, help="evaluate only the first N cases")
    p.add_argument("--split", choices=SPLITS, help="only one side of the fixed train/validation split "
                   "(one case in five, by id hash, is validation)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the JSON report")
    p.add_argument("--junit", type=Path, metavar="OUT", help="write JUnit XML (one testcase per question)")
    p.add_argument("--html", type=Path, metavar="OUT", help="write a self-contained HTML report")
    p.add_argument("--baseline", type=Path, metavar="OLD.json", help="list cases that got worse/better since OLD")
    p.add_argument("--fail-under", nargs="+", action="extend", default=[], metavar="METRIC=VALUE",
                   help="exit 1 when a metric misses its threshold (at most VALUE for latency, answer length and "
                        f"false_refusal_rate); metrics: {', '.join(METRICS)}")

    p = sub.add_parser("golden", help="add a verified case to a golden set, or check a set")
    gsub = p.add_subparsers(dest="golden_command", required=True)
    add = gsub.add_parser("add", help="append a case after checking the bot's cited chunks back it")
    add.add_argument("file", type=Path, help="golden .yaml/.jsonl file (created if missing)")
    add.add_argument("--question", required=True)
    add.add_argument("--answer", nargs="+", action="extend", default=[], help="correct if the answer contains any")
    add.add_argument("--evidence", nargs="+", action="extend", default=[], help="must all occur in cited chunks")
    add.add_argument("--tags", nargs="+", action="extend", default=[])
    add.add_argument("--unanswerable", action="store_true", help="the bot must refuse this question")
    add.add_argument("--id", help="case id (default: next free q../n..)")
    add.add_argument("--force", action="store_true", help="add even if the cited chunks do not back the answer")
    _engine_options(add)
    check = gsub.add_parser("check", help="validate golden files and print what they contain")
    check.add_argument("files", nargs="+", type=Path)


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", type=Path, help="ingest this folder or passage .jsonl into its own collection first")
    p.add_argument("--collection", help="Chroma collection (default: derived from --corpus, else BOT_COLLECTION)")
    p.add_argument("--engine", choices=["extractive", "openai"], help="answer engine (default: BOT_ENGINE)")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _open(args: argparse.Namespace):
    engine, ingest = open_engine(Settings(), corpus=args.corpus, collection=args.collection, progress=progress_bar)
    if ingest is not None:
        print(f"index: {ingest.summary()}", file=sys.stderr)
        for err in ingest.errors:
            print(f"error: {err}", file=sys.stderr)
    return engine


@command("eval")
def _eval(args: argparse.Namespace) -> int:
    thresholds = [parse_threshold(t) for t in args.fail_under]
    baseline = load_baseline(args.baseline) if args.baseline else None
    golden = load_golden(args.golden)
    for warning in golden.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    cases = [c for c in golden.cases if args.split is None or split_of(c.id) == args.split]
    cases = cases[: args.limit] if args.limit else cases
    if not cases:
        raise GoldenError(f"{golden.name} has no cases — add some with 'python -m bot golden add'")
    engine = _open(args)
    report = run_eval(engine, cases, answer_engine=args.engine, k=args.k, mode=args.mode, progress=progress_bar,
                      run=RunInfo(golden=golden.name, corpus=str(args.corpus or "")))
    comparison = compare(report, baseline) if baseline is not None else None
    print(table(report, comparison=comparison))
    for path, text in ((args.json, to_json(report) if args.json else ""),
                       (args.junit, to_junit(report) if args.junit else ""),
                       (args.html, to_html(report, thresholds=thresholds, comparison=comparison) if args.html else "")):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
    missed = [m for t in thresholds if (m := t.failure(report))]
    for message in missed:
        print(f"FAILED: {message}", file=sys.stderr)
    if thresholds and not missed:
        print("all thresholds met", file=sys.stderr)
    return 1 if missed else 0


@command("golden")
def _golden(args: argparse.Namespace) -> int:
    if args.golden_command == "check":
        golden = load_golden(args.files)
        for warning in golden.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        unanswerable = sum(not c.answerable for c in golden.cases)
        print(f"{golden.name}: {len(golden.cases)} cases ({unanswerable} unanswerable), "
              f"tags: {', '.join(sorted({t for c in golden.cases for t in c.tags})) or '-'}")
        return 0
    case = parse_case({"id": args.id or "new", "question": args.question, "answers": args.answer,
                       "evidence": args.evidence, "tags": args.tags, "answerable": not args.unanswerable},
                      where="golden add")
    engine = _open(args)
    verdict = verify_case(engine, case, answer_engine=args.engine)
    if not verdict.supported and not args.force:
        raise GoldenError(f"not added: {verdict.reason} — fix --answer/--evidence, or pass --force to add it anyway\n"
                          + describe_failure(verdict.result))
    record = case.to_record()
    if not args.id:
        record.pop("id")
    added = append_case(args.file, record)
    state = "passes" if verdict.result.passed else "FAILS"
    print(f"added {added.id} to {args.file} (the bot currently {state} it: {verdict.reason})")
    if not verdict.result.passed:
        print(describe_failure(verdict.result))
    return 0
