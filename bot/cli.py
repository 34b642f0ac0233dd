"""Command line: ``python -m bot ingest | ask | chat | docs``.

Errors the user can act on (``BotError``) are printed as one line and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.engines import names as engine_names
from bot.errors import BotError

Command = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        _COMMANDS[name] = fn
        return fn

    return register


def progress_bar(**kwargs):
    """A tqdm bar on stderr (hidden when stderr is not a terminal and the job is small)."""
    from tqdm import tqdm

    return tqdm(file=sys.stderr, dynamic_ncols=True, **kwargs)


def make_engine(args: argparse.Namespace):
    from bot.engine import Engine
    from bot.settings import Settings

    overrides = {}
    if getattr(args, "collection", None):
        overrides["collection"] = args.collection
    return Engine(Settings(**overrides))


def _question(text: str) -> str:
    """A question with something in it; blank input is a usage error, before any work."""
    if not "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip():
        raise argparse.ArgumentTypeError('the question is empty — type a question, e.g. python -m bot ask "…是多少?"')
    return text


def _k(text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        k = 0
    if not 1 <= k <= 50:
        raise argparse.ArgumentTypeError(f"--k must be a whole number from 1 to 50, not {text!r}")
    return k


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Offline Chinese policy Q&A with verified citations.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index the corpus folder (or the given files/folders), incrementally")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: BOT_CORPUS_DIR)")
    p.add_argument("--collection", help="Chroma collection (default: BOT_COLLECTION)")
    p.add_argument("--no-prune", action="store_true", help="keep documents whose files are gone")

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", type=_question)
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--engine", choices=engine_names())
    p.add_argument("--k", type=_k, help="chunks to retrieve (1-50)")
    p.add_argument("--collection")

    p = sub.add_parser("chat", help="interactive chat with history (Ctrl-D to quit)")
    p.add_argument("--engine", choices=engine_names())
    p.add_argument("--collection")

    p = sub.add_parser("docs", help="list indexed documents")
    p.add_argument("--collection")

    import importlib

    for name in EXTENSIONS:
        importlib.import_module(name).register(sub)
    return parser


# Modules that add subcommands: each has ``register(subparsers)`` and uses ``@command``.
EXTENSIONS: list[str] = [
    "bot.feedback",
    "bot.evaluation.cli",
]


@command("ingest")
def _ingest(args: argparse.Namespace) -> int:
    engine = make_engine(args)
    paths = args.paths or None
    report = engine.ingest(paths, prune=False if args.no_prune else None, progress=progress_bar)
    for err in report.errors:
        print(f"error: {err}", file=sys.stderr)
    print(report.summary())
    return 1 if report.errors and not report.documents else 0


def _prepare(engine) -> None:
    report = engine.ensure_index(progress=progress_bar)
    if report is not None:
        print(f"built the index first: {report.summary()}", file=sys.stderr)
        for err in report.errors:
            print(f"error: {err}", file=sys.stderr)
    notice = engine.indexing_notice()
    if notice:
        print(f"note: {notice}", file=sys.stderr)


@command("ask")
def _ask(args: argparse.Namespace) -> int:
    engine = make_engine(args)
    _prepare(engine)
    answer = engine.ask(args.question, engine=args.engine, k=args.k)
    if args.json:
        print(json.dumps(answer.model_dump(), ensure_ascii=False, indent=2))
    else:
        print(answer.render())
    return 0


@command("chat")
def _chat(args: argparse.Namespace) -> int:
    try:
        import readline  # noqa: F401  (line editing and history in input())
    except ImportError:
        pass
    engine = make_engine(args)
    _prepare(engine)
    history: list[tuple[str, str]] = []
    print("政策问答 — 输入问题，Ctrl-D 退出。 Ask a question; Ctrl-D quits.")
    while True:
        try:
            question = input("\n问> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question:
            continue
        answer = None
        for piece in engine.stream(question, history=history, engine=args.engine):
            if isinstance(piece, str):
                continue
            answer = piece
        assert answer is not None
        if answer.standalone_question != answer.question:
            print(f"(检索问题 / searched: {answer.standalone_question})")
        print(answer.render())
        history += [("user", answer.standalone_question), ("assistant", answer.answer)]


@command("docs")
def _docs(args: argparse.Namespace) -> int:
    engine = make_engine(args)
    for doc in engine.documents():
        print(f"{doc['doc_id']}\t{doc['chunks']} chunks\t{doc['published']}\t{doc['title']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except BotError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


