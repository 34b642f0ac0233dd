"""Hostile structure inside otherwise small files: YAML bombs in front matter and golden sets."""

from __future__ import annotations

import json
import time

import pytest

from bot.errors import DocumentError
from bot.evaluation.golden import GoldenError, load_golden
from bot.loaders import load_file, load_paths

# the 354-byte file of the report: nine aliases per level, the title an alias of the last level
ALIAS_BOMB = ("---\n"
              "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
              + "".join(f"{b}: &{b} [" + ",".join(f"*{a}" for _ in range(9)) + "]\n"
                        for a, b in zip("abcdefgh", "bcdefghi", strict=True))
              + "title: *i\n---\n正文。\n")
NESTED = "---\ntitle: " + "[" * 500 + "]" * 500 + "\n---\n正文。\n"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "reason"), [
    (ALIAS_BOMB, "alias"),
    (NESTED, "nested"),
    ("---\ntitle: [政策, 措施]\n---\n正文。\n", "'title' must be one value"),
    ("---\nsource: {a: 1}\n---\n正文。\n", "'source' must be one value"),
    ("---\ntitle: " + "长" * 2000 + "\n---\n正文。\n", "'title' is 2,000 characters"),
    ("---\nnote: " + "x" * 20000 + "\n---\n正文。\n", "character limit"),
    ("---\na: &a [*a]\ntitle: t\n---\n正文。\n", "alias"),
], ids=["alias-bomb", "nested", "list-title", "mapping-source", "long-title", "big-block", "self-alias"])
def test_front_matter_bombs_are_refused_quickly_naming_the_file(tmp_path, text, reason):
    path = _write(tmp_path, "bomb.md", text)
    started = time.perf_counter()
    with pytest.raises(DocumentError) as err:
        load_file(path)
    assert time.perf_counter() - started < 2
    assert str(path) in str(err.value) and reason in str(err.value)


def test_a_bomb_in_a_batch_leaves_the_other_files_loaded(tmp_path):
    _write(tmp_path, "alias.md", ALIAS_BOMB)
    _write(tmp_path, "nested.md", NESTED)
    _write(tmp_path, "good.md", "---\ntitle: 正常文件\npublished: 2024-01-18\n---\n这是一份正常的文件。\n")
    report = load_paths([tmp_path], root=tmp_path)
    assert [d.metadata["title"] for d in report.documents] == ["正常文件"]
    assert report.documents[0].metadata["published"] == "2024-01-18"
    assert sorted(e.path.name for e in report.errors) == ["alias.md", "nested.md"]


def test_ordinary_front_matter_with_an_alias_still_loads(tmp_path):
    path = _write(tmp_path, "ok.md", "---\nsrc: &s 成都市经济和信息化局\nsource: *s\ntitle: 措施\n---\n正文。\n")
    assert load_file(path)[0].metadata["source"] == "成都市经济和信息化局"


@pytest.mark.parametrize(("name", "text"), [
    ("nested.yaml", "- id: a\n  question: " + "[" * 500 + "]" * 500 + "\n  answers: [x]\n"),
    ("alias.yaml", ALIAS_BOMB.split("---\n")[1] + "cases:\n  - {id: a, question: *i, answers: [x]}\n"),
    ("nested.json", json.dumps([{"id": "a", "question": "q", "answers": ["x"]}])[:-1] + "[" * 5000 + "]" * 5000 + "]"),
    ("nested.jsonl", '{"id": "a", "question": ' + "[" * 5000 + "]" * 5000 + "}\n"),
], ids=["yaml-nested", "yaml-alias", "json-nested", "jsonl-nested"])
def test_golden_files_that_nest_or_expand_are_a_clear_error(tmp_path, name, text):
    path = _write(tmp_path, name, text)
    with pytest.raises(GoldenError) as err:
        load_golden(path)
    assert str(path) in str(err.value)


def test_a_passage_line_nested_thousands_deep_or_with_a_list_title_is_one_bad_line(tmp_path):
    path = _write(tmp_path, "p.jsonl", '{"id": "a", "text": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
                  + json.dumps({"id": "b", "text": "好", "title": ["x"]}) + "\n"
                  + json.dumps({"id": "c", "text": "正常的段落。"}) + "\n")
    report = load_paths([path], root=tmp_path)
    assert [d.metadata["doc_id"] for d in report.documents] == ["c"]
    assert [f"p.jsonl:{n}:" in str(e) for n, e in zip((1, 2), report.errors, strict=True)] == [True, True]
    assert "nested too deeply" in str(report.errors[0]) and "'title' must be one value" in str(report.errors[1])
