"""Feedback store and its export as golden cases, on real answers from the seed index."""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from bot import cli
from bot.answer import Answer
from bot.evaluation.golden import load_golden
from bot.feedback import (
    FeedbackError,
    FeedbackStore,
    export_golden,
    golden_yaml,
    key_facts,
    to_golden,
)

REWARD_Q = "对主导制订国际标准的企业奖励多少?"
REFUSED_Q = "北京的房价是多少?"


@pytest.fixture(scope="module")
def answers(seed_engine) -> dict[str, Answer]:
    """Real answers: one answered, one follow-up, one refusal."""
    first = seed_engine.ask(REWARD_Q)
    followup = seed_engine.ask("那标准研制呢?", history=[("user", REWARD_Q), ("assistant", first.answer)])
    return {"answered": first, "followup": followup, "refused": seed_engine.ask(REFUSED_Q)}


def test_store_add_update_and_read_back(tmp_path, answers):
    store = FeedbackStore(tmp_path / "fb" / "feedback.sqlite3")
    first = store.add(answers["answered"], rating="up")
    second = store.add(answers["refused"], rating="down", comment="  should have said so  ")
    store.update(first, rating="wrong_source")
    store.update(first, comment="cites the wrong paragraph")
    records = store.records()
    assert [r.id for r in records] == [second, first]  # newest first
    assert records[0].comment == "should have said so"
    assert records[1].rating == "wrong_source" and records[1].comment == "cites the wrong paragraph"
    assert records[1].answer == answers["answered"]  # the whole Answer round-trips
    assert store.counts() == {"up": 0, "down": 1, "wrong_source": 1}
    assert [r.id for r in store.records(ratings=["down"])] == [second]


def test_store_rejects_unknown_rating_and_reports_a_broken_file(tmp_path, answers):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    with pytest.raises(FeedbackError, match="unknown rating"):
        store.add(answers["answered"], rating="meh")  # type: ignore[arg-type]
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    with pytest.raises(FeedbackError, match="move it aside"):
        FeedbackStore(broken).records()


def test_key_facts_keeps_amounts_and_drops_small_bare_numbers():
    text = "分别给予60万元、40万元、25万元的奖励,累计不超过100万元。同比增长36.9%,共835家 3 项"
    assert key_facts(text) == ["60万元", "40万元", "25万元", "100万元", "36.9%", "835家", "3 项"]


def test_golden_cases_from_each_kind_of_feedback(tmp_path, answers):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    ids = [store.add(answers["answered"], rating="up"), store.add(answers["followup"], rating="up"),
           store.add(answers["refused"], rating="up"), store.add(answers["answered"], rating="wrong_source",
                                                                  comment="wrong year")]
    cases = {r.id: to_golden(r) for r in store.records()}
    good = cases[ids[0]]
    assert good.question == REWARD_Q and good.answerable
    assert "60万元" in good.answers and good.evidence == [c.quote for c in answers["answered"].citations]
    follow = cases[ids[1]]
    assert follow.question == answers["followup"].standalone_question != "那标准研制呢?"
    assert "followup" in follow.tags
    refusal = cases[ids[2]]
    assert refusal.to_yaml_dict() == {"id": f"fb-{ids[2]:04d}", "question": REFUSED_Q, "answerable": False,
                                      "tags": ["feedback", "unanswerable"]}
    review = cases[ids[3]].to_yaml_dict()
    assert "needs-review" in review["tags"] and "wrong-source" in review["tags"]
    assert review["note"].startswith("bot answered: 对主导制订国际") and "wrong year" in review["note"]
    assert "answers" not in review and "evidence" not in review


def test_export_appends_loadable_cases_once(tmp_path, answers):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add(answers["answered"], rating="up")
    store.add(answers["refused"], rating="up")
    out = tmp_path / "golden" / "from-feedback.yaml"
    assert export_golden(store.records(), out) == 2
    golden = load_golden(out)  # the evaluation suite reads it as is
    assert {c.question for c in golden.cases} == {REWARD_Q, REFUSED_Q}
    assert export_golden(store.records(), out) == 0  # same ids and questions: nothing added twice
    store.add(answers["answered"], rating="down")  # same question again, now disliked: skipped as well
    assert export_golden(store.records(), out) == 0


def test_export_writes_needs_review_cases_with_the_bots_answer(tmp_path, answers):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add(answers["refused"], rating="down", comment="深圳的也没有")
    store.add(answers["answered"], rating="up")
    out = tmp_path / "cases.yaml"
    assert export_golden(list(reversed(store.records())), out) == 2
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    review = next(c for c in data if "needs-review" in c["tags"])
    assert review["question"] == REFUSED_Q and "抱歉" in review["note"] and "深圳的也没有" in review["note"]
    with pytest.raises(FeedbackError, match=r"\.yaml"):
        export_golden(store.records(), tmp_path / "cases.txt")


def test_download_yaml_matches_the_export(answers, tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add(answers["answered"], rating="up")
    data = yaml.safe_load(golden_yaml(store.records()))
    assert data[0]["question"] == REWARD_Q and data[0]["evidence"]


def test_cli_lists_and_exports(tmp_path, monkeypatch, capsys, answers):
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add(answers["answered"], rating="up", comment="准确")
    store.add(answers["refused"], rating="wrong_source")
    assert cli.main(["feedback", "list"]) == 0
    listing = capsys.readouterr().out
    assert REWARD_Q in listing and "# 准确" in listing and "wrong_source" in listing
    out = tmp_path / "out.yaml"
    assert cli.main(["feedback", "export", "--golden", str(out), "--rating", "up"]) == 0
    assert "1 case(s) added" in capsys.readouterr().out
    assert [c.question for c in load_golden(out).cases] == [REWARD_Q]
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 2
