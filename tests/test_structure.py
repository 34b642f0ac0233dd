"""Structure-aware chunking of laws, judicial interpretations and policy documents (bot.structure)."""

from __future__ import annotations

import itertools

import pytest
from langchain_core.documents import Document

from bot.chunking import split_document
from bot.citations import Claim, verify
from bot.ingest import embed_text
from bot.loaders import load_file
from bot.structure import article_name, kind_of, name_article
from tests.conftest import STATUTE_FIXTURES

FIXTURES = STATUTE_FIXTURES


def _chunks(name: str, *, size: int = 300) -> tuple[Document, list[Document]]:
    doc = load_file(FIXTURES / name, root=FIXTURES)[0]
    return doc, split_document(doc, size=size)


def _by_article(chunks: list[Document]) -> dict[str, list[Document]]:
    out: dict[str, list[Document]] = {}
    for c in chunks:
        if c.metadata.get("article"):
            out.setdefault(c.metadata["article"], []).append(c)
    return out


@pytest.mark.parametrize("name", ["law.md", "interpretation.md", "policy.md"])
@pytest.mark.parametrize("size", [300, 60])
def test_chunks_are_exact_disjoint_slices_covering_the_text(name, size):
    doc, chunks = _chunks(name, size=size)
    text = doc.page_content
    for chunk in chunks:
        assert text[chunk.metadata["start"] : chunk.metadata["end"]] == chunk.page_content
    starts = [c.metadata["start"] for c in chunks]
    assert starts == sorted(starts)
    assert all(a.metadata["end"] <= b.metadata["start"] for a, b in itertools.pairwise(chunks))
    covered = "".join(c.page_content for c in chunks)
    assert "".join(covered.split()) == "".join(text.split())


def test_law_one_chunk_per_article_with_its_path():
    _doc, chunks = _chunks("law.md")
    articles = _by_article(chunks)
    assert list(articles) == ["第一条", "第二条", "第十七条", "第十七条之一", "第五十四条", "第五十六条"]
    assert all(len(pieces) == 1 for pieces in articles.values())
    art = articles["第五十四条"][0]
    assert art.metadata["article_path"] == "总则 › 第二章 自然人 › 第四节 个体工商户和农村承包经营户 › 第五十四条"
    assert art.metadata["cited_title"] == "中华人民共和国民法典"
    assert article_name(art.metadata) == "《中华人民共和国民法典》第五十四条"
    # one article never runs into the next
    assert "第五十六条" not in art.page_content
    # the file path metadata the index prunes by is left alone
    assert art.metadata["path"].endswith("law.md")


def test_article_number_with_zhi_yi_is_its_own_article():
    _doc, chunks = _chunks("law.md")
    art = _by_article(chunks)["第十七条之一"][0]
    assert art.page_content.startswith("第十七条之一 ")
    assert art.metadata["article_path"].endswith("第一节 民事权利能力和民事行为能力 › 第十七条之一")


def test_long_article_is_cut_at_its_paragraphs_every_piece_naming_the_article():
    _doc, chunks = _chunks("law.md", size=60)
    pieces = _by_article(chunks)["第五十六条"]
    assert len(pieces) >= 2
    assert pieces[0].page_content.startswith("第五十六条")
    assert pieces[1].page_content.startswith("农村承包经营户的债务")  # a 款 starts a piece
    assert {p.metadata["article_path"] for p in pieces} == {
        "总则 › 第二章 自然人 › 第四节 个体工商户和农村承包经营户 › 第五十六条"}
    # items stay with their article
    assert any("（二）经营者转移财产的" in p.page_content for p in pieces)


def test_embedded_and_keyword_text_carry_title_and_path():
    _doc, chunks = _chunks("law.md")
    art = _by_article(chunks)["第五十四条"][0]
    head = embed_text(art).splitlines()[0]
    assert head == "中华人民共和国民法典 总则 › 第二章 自然人 › 第四节 个体工商户和农村承包经营户 › 第五十四条"


def test_judicial_interpretation_articles_without_chapters():
    doc, chunks = _chunks("interpretation.md")
    assert kind_of(doc.page_content, doc.metadata) == "statute"
    articles = _by_article(chunks)
    assert list(articles) == ["第一条", "第二条", "第九条"]
    ninth = articles["第九条"][0]
    assert ninth.metadata["article_path"] == "第九条"
    assert "（三）以票据交付的" in ninth.page_content  # its items stay inside
    assert article_name(ninth.metadata) == "《最高人民法院关于审理民间借贷案件适用法律若干问题的规定》第九条"


def test_policy_document_numbering_gives_the_path():
    doc, chunks = _chunks("policy.md")
    assert kind_of(doc.page_content, doc.metadata) == "policy"
    paths = [c.metadata["article_path"] for c in chunks]
    assert "一、降低经营成本 › （一）减免房租" in paths
    assert "二、加大金融支持 › （一）扩大信贷投放 › 2. 设立2亿元应急转贷资金" in paths
    rent = chunks[paths.index("一、降低经营成本 › （一）减免房租")]
    assert "减免3个月租金" in rent.page_content and "降低用电成本" not in rent.page_content
    # a bare heading line stays with the item below it instead of becoming a chunk of its own
    assert not any(c.page_content.strip() == "二、加大金融支持" for c in chunks)
    assert all(not c.metadata["article"] for c in chunks)  # policies have no 第N条


def test_news_and_plain_text_are_not_structured():
    news = "第一条消息。" + "记者报道，第三条规定了补贴标准。" * 3
    assert kind_of(news, {"type": "news"}) == ""
    assert kind_of("第一条 甲。\n第二条 乙。", {}) == ""  # two articles quoted in prose are not a statute
    chunks = split_document(Document(page_content=news, metadata={"doc_id": "n", "title": "t", "type": "news"}))
    assert all("article_path" not in c.metadata for c in chunks)


def test_citation_names_the_article_and_its_path():
    _doc, chunks = _chunks("law.md")
    art = _by_article(chunks)["第五十四条"][0]
    citations, _renumber, dropped = verify([Claim(n=1, quote="自然人从事工商业经营，经依法登记，为个体工商户。")], [art])
    assert dropped == 0
    cit = citations[0]
    assert cit.article == "《中华人民共和国民法典》第五十四条" and cit.label() == cit.article
    assert cit.path == "总则 › 第二章 自然人 › 第四节 个体工商户和农村承包经营户 › 第五十四条"
    assert cit.text == art.page_content
    # offsets point into the document text
    doc_text = _doc.page_content
    assert doc_text[cit.start : cit.end] == cit.quote


def test_answer_names_the_article_it_quotes():
    _doc, chunks = _chunks("law.md")
    art = _by_article(chunks)["第五十四条"][0]
    other = Document(page_content="无关的新闻。", metadata={"doc_id": "n", "title": "新闻"})
    text = name_article("自然人从事工商业经营，经依法登记，为个体工商户。[2]", [Claim(n=2, quote="…")], [other, art])
    assert text.startswith("根据《中华人民共和国民法典》第五十四条，自然人从事工商业经营")
    # a news quote is left as it is
    assert name_article("无关的新闻。[1]", [Claim(n=1, quote="无关的新闻。")], [other, art]) == "无关的新闻。[1]"


def test_an_amendment_without_articles_is_cut_at_its_numbered_items():
    text = ("# 刑法修正案（九）\n\n一、在刑法第三十七条后增加一条，作为第三十七条之一。\n\n"
            "二、将刑法第三十八条修改为：“判处管制，可以同时禁止犯罪分子从事特定活动。”\n\n三、本修正案自公布之日起施行。\n")
    doc = Document(page_content=text, metadata={"doc_id": "a", "title": "刑法修正案（九）", "type": "law"})
    assert kind_of(text, doc.metadata) == "policy"
    chunks = split_document(doc)
    assert [c.page_content[:2] for c in chunks if c.metadata["article_path"]] == ["一、", "二、", "三、"]
