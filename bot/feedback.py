"""Reader feedback on answers (👍 / 👎 / wrong source), kept in SQLite.

Feedback is the cheapest source of new evaluation cases: a 👍 answer becomes a
golden case that future versions must keep answering, a 👎 or "wrong source"
becomes a case tagged ``needs-review`` for someone to correct.  The store is a
plain SQLite file (``Settings.feedback_path``) opened per call, so Streamlit's
threads can share it without a connection pool.

CLI: ``python -m bot feedback list`` and
``python -m bot feedback export --golden out.yaml``.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.answer import Answer, strip_markers
from bot.errors import BotError

Rating = Literal["up", "down", "wrong_source"]
RATINGS: tuple[Rating, ...] = ("up", "down", "wrong_source")
NEEDS_REVIEW = "needs-review"
# Amounts, counts, percentages and dates are what a reader checks first, so they
# make the most robust "answers" strings for a golden case.
_FACT = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|万亿元|亿元|万元|元|万亿|亿|万|家|个|项|名|人|座|倍|年|月|日|号)?")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down', 'wrong_source')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL,
    refused INTEGER NOT NULL,
    engine TEXT NOT NULL,
    answer_json TEXT NOT NULL
)
"""


class FeedbackError(BotError):
    """The feedback database or an export file cannot be used."""


class FeedbackRecord(BaseModel):
    """One stored rating of one answer."""

    id: int
    created: str
    rating: Rating
    comment: str = ""
    answer: Answer

    @property
    def question(self) -> str:
        """The self-contained question (a follow-up is stored as retrieval saw it)."""
        return self.answer.standalone_question or self.answer.question


class FeedbackCase(BaseModel):
    """A case in the evaluation suite's YAML format, built from feedback."""

    id: str
    question: str
    answers: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    answerable: bool = True
    tags: list[str] = Field(default_factory=list)
    note: str | None = None

    def to_yaml_dict(self) -> dict:
        """Only the keys the format uses for this kind of case, in the usual order."""
        data: dict = {"id": self.id, "question": self.question}
        if not self.answerable:
            data["answerable"] = False
        else:
            if self.answers:
                data["answers"] = list(self.answers)
            if self.evidence:
                data["evidence"] = list(self.evidence)
        data["tags"] = list(self.tags)
        if self.note:
            data["note"] = self.note
        return data


class FeedbackStore:
    """Append and read feedback rows in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10)
        except (OSError, sqlite3.Error) as err:
            raise FeedbackError(f"cannot open the feedback database {self.path} ({err}) — "
                                "check BOT_FEEDBACK_DB / BOT_DATA_DIR and folder permissions") from err
        try:
            conn.execute(_SCHEMA)
            with conn:
                yield conn
        except sqlite3.DatabaseError as err:
            raise FeedbackError(f"feedback database {self.path} is unusable ({err}) — "
                                "move it aside and a new one will be created") from err
        finally:
            conn.close()

    def add(self, answer: Answer, *, rating: Rating, comment: str = "") -> int:
        """Store a rating of ``answer``; returns the new row id."""
        _check_rating(rating)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO feedback (created, rating, comment, question, standalone_question, refused, engine,"
                " answer_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (created, rating, comment.strip(), answer.question, answer.standalone_question, int(answer.refused),
                 answer.engine, answer.model_dump_json()),
            )
            return int(cur.lastrowid or 0)

    def update(self, feedback_id: int, *, rating: Rating | None = None, comment: str | None = None) -> None:
        """Change the rating or the comment of a stored row (a reader changing their mind)."""
        if rating is not None:
            _check_rating(rating)
        with self._connect() as conn:
            if rating is not None:
                conn.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, feedback_id))
            if comment is not None:
                conn.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip(), feedback_id))

    def records(self, *, ratings: Sequence[Rating] | None = None, limit: int | None = None) -> list[FeedbackRecord]:
        """Stored rows, newest first, optionally only some ratings."""
        sql = "SELECT id, created, rating, comment, answer_json FROM feedback"
        params: list[Any] = []
        if ratings:
            sql += f" WHERE rating IN ({', '.join('?' * len(ratings))})"
            params.extend(ratings)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [FeedbackRecord(id=r[0], created=r[1], rating=r[2], comment=r[3],
                               answer=Answer.model_validate_json(r[4])) for r in rows]

    def counts(self) -> dict[str, int]:
        """Number of rows per rating (every rating present, zero when none)."""
        with self._connect() as conn:
            rows = dict(conn.execute("SELECT rating, COUNT(*) FROM feedback GROUP BY rating").fetchall())
        return {r: int(rows.get(r, 0)) for r in RATINGS}


def _check_rating(rating: str) -> None:
    if rating not in RATINGS:
        raise FeedbackError(f"unknown rating '{rating}' — use one of {', '.join(RATINGS)}")


# ---- golden cases ------------------------------------------------------------------------------


def key_facts(text: str) -> list[str]:
    """Numbers with their units in ``text`` ("60万元", "36.9%"), in order, without repeats.

    A bare one- or two-digit number says too little to check an answer by, so it is left out.
    """
    facts: list[str] = []
    for match in _FACT.finditer(text):
        fact = match.group(0).strip()
        if (fact.isdigit() and len(fact) < 3) or fact in facts:
            continue
        facts.append(fact)
    return facts


def to_golden(record: FeedbackRecord) -> FeedbackCase:
    """The golden case a feedback row stands for.

    A helpful answer keeps its facts (the numbers in the cited quotes, else the
    quotes themselves) as ``answers`` and its quotes as ``evidence``; a helpful
    refusal becomes an unanswerable case; anything else is tagged
    ``needs-review`` with the bot's answer in ``note``.
    """
    answer = record.answer
    tags = ["feedback"]
    if answer.standalone_question != answer.question:
        tags.append("followup")
    case_id = f"fb-{record.id:04d}"
    if record.rating != "up":
        tags += [NEEDS_REVIEW, record.rating.replace("_", "-")]
        note = f"bot answered: {strip_markers(answer.answer).strip()}"
        if record.comment:
            note += f"\nreader comment: {record.comment}"
        return FeedbackCase(id=case_id, question=record.question, tags=tags, note=note)
    if answer.refused:
        return FeedbackCase(id=case_id, question=record.question, answerable=False, tags=[*tags, "unanswerable"],
                            note=record.comment or None)
    quotes = [c.quote for c in answer.citations]
    facts = [f for f in key_facts(" ".join(quotes)) if f in strip_markers(answer.answer)]
    # "answers" match when ANY is present, so a date that every answer on the topic repeats would pass them all.
    amounts = [f for f in facts if not f.endswith(("年", "月", "日"))]
    answers = amounts or facts or quotes or [strip_markers(answer.answer).strip()]
    return FeedbackCase(id=case_id, question=record.question, answers=answers, evidence=quotes, tags=tags,
                      note=record.comment or None)


def export_golden(records: Sequence[FeedbackRecord], path: Path) -> int:
    """Append the records' cases to the YAML file at ``path``; returns how many were added.

    Cases whose id or question the file already has are skipped, so exporting
    twice adds nothing.  Checked cases go through the evaluation suite's
    ``append_case`` when it is installed; ``needs-review`` cases (which have
    nothing to check until someone fills in ``answers``) and files that
    already hold such cases are appended as plain YAML.
    """
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise FeedbackError(f"{path}: export to a .yaml or .yml file")
    ids, questions = _existing(path)
    added = 0
    for case in (to_golden(r) for r in records):
        if case.id in ids or _norm(case.question) in questions:
            continue
        _append(path, case)
        ids.add(case.id)
        questions.add(_norm(case.question))
        added += 1
    return added


def golden_yaml(records: Sequence[FeedbackRecord]) -> str:
    """The records' cases as one YAML document (for a download button)."""
    import yaml

    return yaml.safe_dump([to_golden(r).to_yaml_dict() for r in records], allow_unicode=True, sort_keys=False)


def _append(path: Path, case: FeedbackCase) -> None:
    if NEEDS_REVIEW not in case.tags:
        try:
            from bot.evaluation.golden import GoldenError, append_case
        except ImportError:
            pass
        else:
            try:
                append_case(path, case.to_yaml_dict())
                return
            except GoldenError:
                pass  # the file holds needs-review cases the loader rejects: append as text below
    _append_text(path, case)


def _append_text(path: Path, case: FeedbackCase) -> None:
    import yaml

    text = yaml.safe_dump([case.to_yaml_dict()], allow_unicode=True, sort_keys=False, width=1000)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        glue = "\n" if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n") else ""
        with path.open("a", encoding="utf-8") as handle:
            handle.write(glue + text)
    except OSError as err:
        raise FeedbackError(f"cannot write {path} ({err.strerror}) — choose a writable path") from err


def _existing(path: Path) -> tuple[set[str], set[str]]:
    """Ids and normalised questions already in the file (read as plain YAML, so unreviewed cases count too)."""
    import yaml

    if not path.exists():
        return set(), set()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or []
    except (OSError, yaml.YAMLError) as err:
        raise FeedbackError(f"{path} is not a readable YAML case list ({err.__class__.__name__}) — "
                            "export to a new file instead") from err
    if not isinstance(data, list):
        raise FeedbackError(f"{path} is not a YAML list of cases — export to a new file instead")
    rows = [row for row in data if isinstance(row, dict)]
    return {str(r.get("id")) for r in rows}, {_norm(str(r.get("question", ""))) for r in rows}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


# ---- command line ------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``feedback list`` and ``feedback export`` to the CLI."""
    from bot.cli import command

    p = subparsers.add_parser("feedback", help="list reader feedback or export it as golden cases")
    actions = p.add_subparsers(dest="feedback_action", required=True)
    listing = actions.add_parser("list", help="show stored feedback, newest first")
    listing.add_argument("--rating", action="append", choices=RATINGS, help="only these ratings (repeatable)")
    listing.add_argument("--limit", type=int, default=50)
    export = actions.add_parser("export", help="append feedback as cases to a golden YAML file")
    export.add_argument("--golden", type=Path, required=True, help="YAML file to write (created or appended to)")
    export.add_argument("--rating", action="append", choices=RATINGS, help="only these ratings (repeatable)")
    command("feedback")(_feedback)


def _feedback(args: argparse.Namespace) -> int:
    from bot.settings import Settings

    store = FeedbackStore(Settings().feedback_path)
    records = store.records(ratings=args.rating, limit=getattr(args, "limit", None))
    if args.feedback_action == "export":
        added = export_golden(list(reversed(records)), args.golden)
        print(f"{added} case(s) added to {args.golden} ({len(records) - added} already there)")
        return 0
    for r in records:
        comment = f"\t# {r.comment}" if r.comment else ""
        print(f"{r.id}\t{r.created}\t{r.rating}\t{r.question}{comment}")
    return 0
