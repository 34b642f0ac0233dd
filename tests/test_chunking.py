"""Chinese chunking: offsets, boundaries, stable ids (bot.chunking)."""

import itertools

from langchain_core.documents import Document

from bot.chunking import chunk_spans, split_document

POLICY = """# 若干政策措施

第一条 为促进人工智能产业高质量发展，制定本措施。

第二条 对经认定的“首版次”软件产品，按其研发支出、销售合同执行金额10%的比例，给予最高250万元的资金补贴。支持企业开展核心算法研发，对取得国家科技重大专项成果并在蓉落地转化的，给予最高1000万元经费支持。

第三条 鼓励企业做专做精，对新获得国家专精特新“小巨人”称号的人工智能企业，给予30万元一次性奖励。

（一）主导制订国际标准的，给予60万元奖励。
（二）主导制订国家标准的，给予40万元奖励。
"""


def _doc(text: str, doc_id: str = "policy/test") -> Document:
    return Document(page_content=text, metadata={"doc_id": doc_id, "title": "若干政策措施", "doc_hash": "x"})


def test_chunk_offsets_slice_the_document():
    chunks = split_document(_doc(POLICY), size=80)
    assert len(chunks) > 3
    for chunk in chunks:
        assert POLICY[chunk.metadata["start"] : chunk.metadata["end"]] == chunk.page_content


def test_chunks_are_ordered_disjoint_and_cover_the_text():
    spans = chunk_spans(POLICY, size=80)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    covered = "".join(POLICY[s.start : s.end] for s in spans)
    assert "".join(covered.split()) == "".join(POLICY.split())


def test_policy_articles_start_new_chunks():
    chunks = split_document(_doc(POLICY), size=400)
    starts = [c.page_content.lstrip()[:3] for c in chunks]
    assert "第二条" in starts and "第三条" in starts
    assert not any("第二条" in c.page_content and "第三条" in c.page_content for c in chunks)
    assert any(c.page_content.startswith("（一）") for c in chunks)


def test_never_splits_inside_a_title_or_number():
    text = "根据《成都市进一步促进人工智能产业高质量发展的若干政策措施。实施细则》，同比增长36.9%。" * 6
    for chunk in split_document(_doc(text), size=40):
        body = chunk.page_content
        assert body.count("《") == body.count("》")
        assert not body.startswith(("9%", ".9%"))


def test_chunk_ids_are_stable_and_content_addressed():
    a = [c.id for c in split_document(_doc(POLICY), size=80)]
    b = [c.id for c in split_document(_doc(POLICY), size=80)]
    assert a == b and len(set(a)) == len(a)
    assert all(cid.startswith("policy/test#") for cid in a)
    edited = split_document(_doc(POLICY.replace("30万元", "35万元")), size=80)
    assert len(set(a) - {c.id for c in edited}) == 1


def test_chunks_know_their_heading_and_document():
    chunks = split_document(_doc(POLICY), size=80)
    assert all(c.metadata["heading"] == "若干政策措施" for c in chunks)
    assert all(c.metadata["doc_id"] == "policy/test" for c in chunks)
