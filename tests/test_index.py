"""Incremental ingest into real Chroma (embedded and a `chroma run` server), hybrid retrieval."""

import pytest

from bot.engine import Engine
from bot.errors import IndexError_

DOC_A = """---
title: 算力券实施细则
published: '2024-02-01'
type: policy
---

第一条 算力券每年发放总额不超过1000万元。

第二条 企业可在每年1月至3月申领算力券。
"""
DOC_B = """---
title: 标准研制奖励
type: policy
---

对主导制订国际、国家、行业标准的企业，分别给予60万元、40万元、25万元的奖励。
"""


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    (root / "policy").mkdir(parents=True)
    (root / "policy" / "voucher.md").write_text(DOC_A, encoding="utf-8")
    (root / "policy" / "standards.md").write_text(DOC_B, encoding="utf-8")
    return root


def test_second_ingest_embeds_nothing(settings_factory, corpus):
    engine = Engine(settings_factory(corpus_dir=corpus))
    first = engine.ingest()
    assert sorted(first.added) == ["policy/standards", "policy/voucher"]
    assert first.chunks_embedded == first.chunks_total > 0
    second = engine.ingest()
    assert second.chunks_embedded == 0 and not second.changed
    assert sorted(second.unchanged) == ["policy/standards", "policy/voucher"]


def test_changed_document_is_replaced_and_removed_one_pruned(settings_factory, corpus):
    engine = Engine(settings_factory(corpus_dir=corpus))
    engine.ingest()
    before = engine.index.count()
    (corpus / "policy" / "voucher.md").write_text(DOC_A.replace("1000万元", "2000万元"), encoding="utf-8")
    (corpus / "policy" / "standards.md").unlink()
    report = engine.ingest()
    assert report.updated == ["policy/voucher"] and report.removed == ["policy/standards"]
    texts = [d["doc_id"] for d in engine.documents()]
    assert texts == ["policy/voucher"]
    hits = engine.retriever(k=3).search("算力券发放总额")
    assert any("2000万元" in h.page_content for h in hits)
    assert not any("1000万元" in h.page_content for h in hits)
    assert engine.index.count() < before


def test_a_file_that_breaks_keeps_its_old_chunks(settings_factory, corpus):
    engine = Engine(settings_factory(corpus_dir=corpus))
    engine.ingest()
    (corpus / "policy" / "standards.md").write_text("---\ntitle: [unclosed\n---\n正文", encoding="utf-8")
    report = engine.ingest()
    assert len(report.errors) == 1 and "standards.md" in str(report.errors[0])
    assert "policy/standards" in [d["doc_id"] for d in engine.documents()]
    assert not report.removed


def test_hybrid_retrieval_finds_exact_terms_and_english_questions(seed_engine):
    retriever = seed_engine.retriever(k=3)
    hits = retriever.invoke("专精特新小巨人奖励")
    assert "小巨人" in hits[0].page_content
    english = retriever.invoke("How many AI companies did Chengdu have by November 2023?")
    assert any("835家" in h.page_content for h in english)
    for mode in ("dense", "bm25"):
        assert seed_engine.retriever(k=3, mode=mode).search("首版次软件补贴"), mode


def test_document_text_rebuilds_offsets(seed_engine):
    (doc,) = seed_engine.documents()
    text = seed_engine.document_text(doc["doc_id"])
    for chunk in seed_engine.retriever(k=5).search("算力券"):
        assert text[chunk.metadata["start"] : chunk.metadata["end"]] == chunk.page_content


def test_chroma_server_mode(settings_factory, corpus, chroma_server):
    host, port = chroma_server
    settings = settings_factory(corpus_dir=corpus, chroma_host=host, chroma_port=port, collection="server-test-index")
    engine = Engine(settings)
    try:
        report = engine.ingest()
        assert report.chunks_total > 0
        assert engine.ingest().chunks_embedded == 0
        answer = engine.ask("标准研制奖励多少?")
        assert not answer.refused and "60万元" in answer.answer
    finally:
        engine.index.client.delete_collection("server-test-index")


def test_unreachable_chroma_server_says_what_to_do(settings_factory, corpus):
    from tests.conftest import free_port

    engine = Engine(settings_factory(corpus_dir=corpus, chroma_host="127.0.0.1", chroma_port=free_port()))
    with pytest.raises(IndexError_, match="chroma run"):
        engine.ingest()


def test_a_new_chunk_size_re_chunks_instead_of_keeping_old_chunks(settings_factory, corpus):
    settings = settings_factory(corpus_dir=corpus)
    first = Engine(settings)
    first.ingest()
    old_ids = {cid for d in first.index.documents().values() for cid in d["ids"]}
    second = Engine(settings.model_copy(update={"chunk_size": 60}))
    report = second.ingest()
    assert sorted(report.updated) == ["policy/standards", "policy/voucher"]
    # these short articles cut the same way at either size, so nothing needs embedding again
    assert report.chunks_embedded == 0
    assert {cid for d in second.index.documents().values() for cid in d["ids"]} == old_ids
    assert all(len(d["hashes"]) == 1 for d in second.index.documents().values())
    assert second.ingest().unchanged == report.updated
