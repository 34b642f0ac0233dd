"""Golden question sets: load them (YAML or JSONL) and append verified cases.

A set is a list of cases written by hand or exported from user feedback::

    - id: q01
      question: 创新券每年发放总额是多少?
      answers: ["500万元", "500万"]        # correct if the answer contains ANY of these
      evidence: ["创新券", "500万元"]       # ALL must occur in the chunks the answer cites
      tags: [amount]
    - id: n01
      question: 深圳的人工智能产业规模是多少?
      answerable: false                    # the bot must refuse

The benchmark files (``answer_groups``, ``gold_passage_ids``, ``passages``,
``source``) load unchanged; ``passages`` and ``source`` are ignored.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import BotError
from bot.evaluation.articles import check_name
from bot.safe_yaml import YAMLBoundsError, load_bounded

SUFFIXES = (".yaml", ".yml", ".jsonl", ".json")
MAX_CHARS = 20_000_000  # a golden file of ~100,000 cases; YAML over this is refused
KNOWN_EXTRA = frozenset({"passages", "source", "note", "notes", "comment", "answer_text"})
_ID_NUM = re.compile(r"^([A-Za-z_-]*?)(\d+)$")


class GoldenError(BotError):
    """A golden set cannot be read or a case cannot be added."""


class GoldenCase(BaseModel):
    """One question and what a correct reply must satisfy."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    question: str
    answers: list[str] = Field(default_factory=list, description="Correct when the answer contains any of these.")
    answer_groups: list[list[str]] = Field(default_factory=list,
                                           description="Correct when every group has a member in the answer.")
    evidence: list[str] = Field(default_factory=list, description="Each must occur in a cited chunk.")
    answerable: bool = True
    gold_passage_ids: list[str] = Field(default_factory=list, description="Passages retrieval should find.")
    gold_articles: list[str] = Field(default_factory=list,
                                     description="Articles retrieval should find and the answer should cite, "
                                                 "as 《title》第N条.")
    tags: list[str] = Field(default_factory=list)

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> str:
        return str(value).strip() if value is not None else ""

    @field_validator("answers", "evidence", "gold_passage_ids", "gold_articles", "tags", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> list:
        if value is None:
            return []
        return [value] if isinstance(value, (str, int, float)) else value

    @field_validator("answers", "evidence", "gold_passage_ids", "gold_articles", "tags")
    @classmethod
    def _clean(cls, value: list) -> list[str]:
        return [str(v).strip() for v in value if str(v).strip()]

    @field_validator("gold_articles")
    @classmethod
    def _article_names(cls, value: list[str]) -> list[str]:
        return [check_name(v) for v in value]

    @field_validator("answer_groups")
    @classmethod
    def _clean_groups(cls, value: list[list[str]]) -> list[list[str]]:
        groups = [[str(v).strip() for v in g if str(v).strip()] for g in value]
        return [g for g in groups if g]

    @model_validator(mode="after")
    def _consistent(self) -> GoldenCase:
        if not self.id:
            raise ValueError("missing 'id'")
        if not self.question.strip():
            raise ValueError("missing 'question'")
        if not self.answerable and (self.answers or self.answer_groups or self.evidence):
            raise ValueError("'answerable: false' cases take no answers or evidence — remove them or drop answerable")
        if self.answerable and not (self.answers or self.answer_groups or self.evidence or self.gold_passage_ids
                                    or self.gold_articles):
            raise ValueError("nothing to check — add 'answers', 'evidence', 'gold_passage_ids' or 'gold_articles', "
                             "or mark it 'answerable: false'")
        return self

    @property
    def groups(self) -> list[list[str]]:
        """Answer groups to satisfy: ``answer_groups`` if given, else ``answers`` as one group."""
        return self.answer_groups or ([self.answers] if self.answers else [])

    def to_record(self) -> dict[str, Any]:
        """The case as written in a golden file (empty fields left out)."""
        record: dict[str, Any] = {"id": self.id, "question": self.question}
        for key in ("answers", "answer_groups", "evidence"):
            if getattr(self, key):
                record[key] = getattr(self, key)
        if not self.answerable:
            record["answerable"] = False
        for key in ("gold_passage_ids", "gold_articles", "tags"):
            if getattr(self, key):
                record[key] = getattr(self, key)
        return record


@dataclass
class GoldenSet:
    """Cases read from one or more files, in file order."""

    paths: list[Path]
    cases: list[GoldenCase]
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " + ".join(p.name for p in self.paths)


def load_golden(paths: Path | str | Sequence[Path | str]) -> GoldenSet:
    """Read golden files; case ids must be unique across all of them."""
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not files:
        raise GoldenError("no golden file given — pass a .yaml or .jsonl question set")
    out = GoldenSet(paths=files, cases=[])
    seen: dict[str, str] = {}
    for path in files:
        for where, row in _rows(path):
            case = parse_case(row, where=where, warnings=out.warnings)
            if case.id in seen:
                raise GoldenError(f"{where}: duplicate id '{case.id}' (first in {seen[case.id]}) — ids must be unique")
            seen[case.id] = where
            out.cases.append(case)
    return out


def _rows(path: Path) -> Iterable[tuple[str, Mapping]]:
    if not path.is_file():
        raise GoldenError(f"golden file {path} not found — check the path")
    if path.suffix.lower() not in SUFFIXES:
        raise GoldenError(f"{path}: unknown golden format — use .yaml, .yml, .jsonl or .json")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".jsonl":
        yield from _jsonl_rows(path, text)
        return
    try:
        data = (load_bounded(text, max_chars=MAX_CHARS, max_aliases=1000) if path.suffix.lower() != ".json"
                else json.loads(text))
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        raise GoldenError(f"{path}: not valid {path.suffix[1:].upper()} ({err}) — fix the syntax") from err
    except (YAMLBoundsError, RecursionError) as err:  # aliases that expand, brackets nested hundreds deep
        reason = err if isinstance(err, YAMLBoundsError) else "nested too deeply"
        raise GoldenError(f"{path}: refused, {reason} — a question set is a flat list of cases") from err
    if isinstance(data, Mapping) and isinstance(data.get("cases"), list):
        data = data["cases"]
    if data is None:
        return
    if not isinstance(data, list):
        raise GoldenError(f"{path}: expected a list of cases ('- id: ...' entries)")
    for i, row in enumerate(data, 1):
        yield f"{path} case #{i}", row


def _jsonl_rows(path: Path, text: str) -> Iterable[tuple[str, Mapping]]:
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{lineno}", json.loads(line)
        except json.JSONDecodeError as err:
            raise GoldenError(f"{path}:{lineno}: not valid JSON ({err.msg}) — one case object per line") from err
        except RecursionError as err:
            raise GoldenError(f"{path}:{lineno}: nested too deeply — one flat case object per line") from err


def parse_case(row: Any, *, where: str = "case", warnings: list[str] | None = None) -> GoldenCase:
    """Validate one case mapping; problems become a ``GoldenError`` naming the place."""
    warnings = [] if warnings is None else warnings
    if not isinstance(row, Mapping):
        raise GoldenError(f"{where}: a case must be a mapping with 'id' and 'question'")
    unknown = sorted(set(map(str, row)) - set(GoldenCase.model_fields) - KNOWN_EXTRA)
    for key in unknown:
        hint = difflib.get_close_matches(key, list(GoldenCase.model_fields), n=1)
        warnings.append(f"{where}: unknown key '{key}' ignored" + (f" — did you mean '{hint[0]}'?" if hint else ""))
    try:
        return GoldenCase.model_validate(dict(row))
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'case'}: {e['msg']}" for e in err.errors())
        label = f" ({row.get('id')})" if row.get("id") is not None else ""
        raise GoldenError(f"{where}{label}: {problems}") from err


# ---- writing ------------------------------------------------------------------------------------


def append_case(path: Path | str, case: GoldenCase | Mapping[str, Any]) -> GoldenCase:
    """Append one case to a golden file (created if missing) and return it with its id.

    Existing text, comments included, is left untouched: the case is added at
    the end.  A case without an id gets the next free one (``q47`` for an
    answerable case, ``n11`` for an unanswerable one).  Refuses a duplicate
    id or a question the file already asks.
    """
    from filelock import FileLock

    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml", ".jsonl"):
        raise GoldenError(f"{path}: cases can be appended to .yaml, .yml or .jsonl files only")
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        existing = load_golden(path).cases if path.exists() and path.stat().st_size else []
        record = dict(case.to_record() if isinstance(case, GoldenCase) else case)
        answerable = record.get("answerable", True) is not False
        record["id"] = str(record.get("id") or "").strip() or next_id(existing, answerable=answerable)
        new = parse_case(record, where=str(path))
        _check_new(new, existing, path)
        _append_text(path, new)
        return new


def next_id(cases: Sequence[GoldenCase], *, answerable: bool = True) -> str:
    """The next free id: ``q``/``n`` + one more than the highest number used with that prefix."""
    prefix = "q" if answerable else "n"
    taken = {c.id for c in cases}
    numbers = [int(m.group(2)) for c in cases if (m := _ID_NUM.match(c.id)) and m.group(1) == prefix]
    n = max(numbers, default=0) + 1
    while f"{prefix}{n:02d}" in taken:
        n += 1
    return f"{prefix}{n:02d}"


def _check_new(new: GoldenCase, existing: Sequence[GoldenCase], path: Path) -> None:
    from bot.evaluation.matching import normalize

    for case in existing:
        if case.id == new.id:
            raise GoldenError(f"{path} already has a case with id '{new.id}' — choose another id or leave it empty")
        if normalize(case.question) == normalize(new.question):
            raise GoldenError(f"{path} already asks this question as '{case.id}' — edit that case instead")


def _append_text(path: Path, case: GoldenCase) -> None:
    record = case.to_record()
    if path.suffix.lower() == ".jsonl":
        text = json.dumps(record, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump([record], allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000)
    prefix = ""
    if path.exists() and path.stat().st_size:
        with path.open("rb") as handle:
            handle.seek(-1, 2)
            prefix = "" if handle.read(1) == b"\n" else "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(prefix + text)
