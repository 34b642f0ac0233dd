"""A large ingest is searchable by keyword first, then embedded; questions asked meanwhile are answered from what
is indexed and say that indexing is still running; a killed ingest resumes where it stopped.

Real embedded Chroma and the real embedder; ``BOT_KEYWORD_FIRST_CHUNKS`` is lowered so a small synthetic corpus
takes the large-ingest path.  Every store lives in ``tmp_path``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from bot.engine import Engine
from bot.settings import Settings
from tests.conftest import ROOT
from tests.test_reliability_faults import _env, _progress, _wait_for, assert_consistent, write_corpus

QUESTION = "成都对第1类算法研发的企业每年最高补助多少万元?"  # document p00, article 1: 11万元 (version 1)


def test_chunks_are_found_by_keyword_before_they_are_embedded(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 6, short=True)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, chunk_size=50, keyword_first_chunks=1,
                        embedding_cache=tmp_path / "cache" / "embeddings.sqlite3")
    engine = Engine(settings)
    seen: dict = {}
    embed = engine.embeddings.embed_passages

    def first_embed_checks(texts, **kw):
        if not seen:
            index = engine.index
            hits = index.keyword_search("成都 第1类 算法", 3)
            seen.update(pending=index.pending_count(), in_chroma=index.count(), hits=hits,
                        texts=[d.page_content for d in index.get([h[0] for h in hits]).values()],
                        notice=engine.indexing_notice())
        return embed(texts, **kw)

    engine.embeddings.embed_passages = first_embed_checks  # type: ignore[method-assign]
    report = engine.ingest()
    assert seen["in_chroma"] == 0 and seen["pending"] == report.chunks_total > 0
    assert seen["hits"] and any("补助11万元" in t for t in seen["texts"]), seen
    assert "indexing is still running" in seen["notice"]
    assert engine.index.pending_count() == 0 and engine.indexing_notice() is None
    assert_consistent(engine, corpus)
    answer = engine.ask(QUESTION)
    assert "11万元" in answer.answer and answer.citations


def test_killed_ingest_stays_keyword_searchable_and_resumes_losing_at_most_one_batch(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", 30, articles=8, short=True)
    data, cache, log = tmp_path / "data", tmp_path / "cache" / "embeddings.sqlite3", tmp_path / "first.log"
    env = _env(data, corpus, cache) | {"BOT_CHUNK_SIZE": "50", "BOT_KEYWORD_FIRST_CHUNKS": "1"}
    with log.open("w") as err:
        first = subprocess.Popen([sys.executable, "-m", "bot", "ingest"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait_for(lambda: _progress(log)[0] > 0 or first.poll() is not None, timeout=240, what="the first chunks")
        assert first.poll() is None, f"the first ingest ended early:\n{log.read_text()[-2000:]}"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    done, total = _progress(log)
    assert "keyword search ready" in log.read_text()
    assert 0 < done < total

    asked = subprocess.run([sys.executable, "-m", "bot", "ask", QUESTION], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert "indexing is still running" in asked.stderr
    assert "补助11万元" in asked.stdout and "[1]" in asked.stdout

    settings = Settings(data_dir=data, corpus_dir=corpus, chunk_size=50, keyword_first_chunks=1, embedding_cache=cache)
    engine = Engine(settings)
    report = engine.ingest()
    assert report.chunks_embedded <= total - done  # only what the killed run had not embedded yet
    assert engine.index.pending_count() == 0
    assert_consistent(engine, corpus)
