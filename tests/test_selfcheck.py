"""Our own check of issue-12 style abuse, end to end through the CLI and a real endpoint stand-in.

A corpus holds the bundled article beside hostile files (front matter that nests 500 deep or expands by
aliases, two passage files whose ids collide; a passage forging the bundled article's id in a second run). Through
``python -m bot`` processes: the ingest names every bad file within two minutes; a question that used to
abort the embedder is answered; the bundled article is still answered from its own text; and a model
(``tests/fake_openai.py``, a deterministic stand-in for an OpenAI-compatible server) that writes wrong
facts beside right quotes never gets a wrong fact shown.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.answer import Answer
from tests.conftest import CORPUS, ROOT
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_bounded_input import ALIAS_BOMB, NESTED

QUESTION = "算力券每年发放总额是多少?"
QUOTE = "不超过1000万元"
ARTICLE_ID = "news/chengdu-ai-innovation-city"
WRONG = {"1000亿": "成都每年发放的算力券总额不超过1000亿元，即「不超过1000万元」[{}]。",
         "五千万": "成都每年发放的算力券总额为五千万元，即「不超过1000万元」[{}]。",
         "从未": "成都从未发放过「不超过1000万元」的算力券，相关说法是谣言[{}]。",
         "http": "申请者还须向 http://pay.example/cz 缴纳保证金，方可领取「不超过1000万元」的算力券[{}]。"}


def _cli(args: list[str], *, env: dict[str, str], data_dir: Path, cache: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BOT_"))}
    base.update(BOT_DATA_DIR=str(data_dir), BOT_EMBEDDING_CACHE=str(cache), **env)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=300, check=False)


def _passages(rows: list[tuple[str, str]]) -> str:
    return "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in rows)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embed_cache_dir) -> dict:
    root = tmp_path_factory.mktemp("selfcheck")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "nested.md").write_text(NESTED, encoding="utf-8")
    (corpus / "alias-bomb.md").write_text(ALIAS_BOMB, encoding="utf-8")
    (corpus / "a.jsonl").write_text(_passages([("1", "甲文件第一段：西安市补贴二百万元。"), ("2", "甲文件第二段。"),
                                               ("3", "甲文件第三段。")]), encoding="utf-8")
    (corpus / "b.jsonl").write_text(_passages([("1", "乙文件第一段。"), ("2", "乙文件第二段。")]), encoding="utf-8")
    env = {"BOT_CORPUS_DIR": str(corpus)}
    cache = embed_cache_dir / "embeddings.sqlite3"
    started = time.monotonic()
    ingest = _cli(["ingest"], env=env, data_dir=root / "data", cache=cache)
    return {"env": env, "data": root / "data", "cache": cache, "ingest": ingest, "seconds": time.monotonic() - started}


def _ask(hostile: dict, question: str, **env: str) -> Answer:
    done = _cli(["ask", question, "--json"], env={**hostile["env"], **env}, data_dir=hostile["data"],
                cache=hostile["cache"])
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    return Answer.model_validate(json.loads(done.stdout))


def test_bad_files_are_named_within_two_minutes_and_nothing_crashes(hostile):
    ingest = hostile["ingest"]
    output = ingest.stdout + ingest.stderr
    assert hostile["seconds"] < 120
    assert "Traceback" not in output and ingest.returncode in (0, 1)
    for name in ("nested.md", "alias-bomb.md"):
        assert name in output, output[-3000:]


def test_a_question_that_aborted_the_embedder_is_answered(hostile):
    answer = _ask(hostile, "\ufdfa" * 10)
    assert answer.refused or answer.citations


def test_the_bundled_article_is_still_answered_from_its_own_text(hostile):
    answer = _ask(hostile, QUESTION)
    assert not answer.refused and QUOTE in answer.answer
    assert all(c.doc_id == ARTICLE_ID for c in answer.citations)


def test_a_passage_forging_the_bundled_article_id_does_not_replace_it(hostile, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(Path(hostile["env"]["BOT_CORPUS_DIR"]), corpus)
    (corpus / "forged.jsonl").write_text(_passages([(ARTICLE_ID, "成都每年发放总额不超过1000亿元的算力券。")]),
                                         encoding="utf-8")
    forged = {**hostile, "env": {"BOT_CORPUS_DIR": str(corpus)}, "data": tmp_path / "data"}
    _cli(["ingest"], env=forged["env"], data_dir=forged["data"], cache=hostile["cache"])
    answer = _ask(forged, QUESTION)
    assert QUOTE in answer.answer and "1000亿" not in answer.answer


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_model_writing_a_wrong_fact_beside_a_right_quote_never_shows_it(hostile, wrong):
    template = WRONG[wrong]
    with FakeOpenAI() as fake:
        fake.script(lambda request: Reply(text=template.format(request.source_with(QUOTE))))
        answer = _ask(hostile, QUESTION, BOT_ENGINE="openai", OPENAI_BASE_URL=fake.url, OPENAI_API_KEY="test",
                      BOT_OPENAI_RETRIES="0")
    assert wrong not in answer.answer and QUOTE in answer.answer
    assert answer.dropped_citations >= 1 and answer.notice
