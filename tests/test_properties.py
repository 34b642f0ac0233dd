"""Property-based tests (hypothesis) of the chunker and the quote normaliser.

Texts are drawn from Chinese policy-text pieces (《titles》, 第X条, headings,
numbers with dots and thousands separators, sentence marks, blank lines)
mixed with arbitrary Unicode, so the laws below hold for any document:
chunks are exact, ordered slices that drop no non-space character, and any
slice of a text is found again by ``find_span``.
"""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document

from bot.chunking import chunk_spans, split_document
from bot.text import find_span, normalize, sentence_spans

PIECES = [
    "第一条", "第十二条", "第3章", "第二节", "# 若干政策措施", "## Heading", "（一）", "(二)", "一、", "《成都市若干政策措施》",
    "《", "》", "36.9%", "1,000", "1,000,000万元", "12,34", "1.5", "v2.0", "3.14159", "。", "！", "？", "；", "…", "……",
    "，", "、", "：", ":", ".", ". ", " ", "  ", "\n", "\n\n", "  \n \n", "\t", "\u3000", "算力券", "人工智能", "补贴",
    "给予最高250万元的资金补贴", "AI", "Chengdu", "hello world", "End. Next", "“", "”", "'", '"', "(", ")", "）", "１２３",
    "ＡＢＣ", "ﬁ", "İ", "½", "㎡", "🎉", "e\u0301", ",", "0", "9",
]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=80).map("".join)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _visible(text: str) -> str:
    return "".join(text.split())


@SETTINGS
@given(text=texts, size=st.sampled_from([50, 80, 300]))
def test_chunks_are_ordered_exact_slices_that_drop_nothing(text, size):
    doc = Document(page_content=text, metadata={"doc_id": "policy/p", "title": "t", "doc_hash": "h"})
    chunks = split_document(doc, size=size)
    spans = [(c.metadata["start"], c.metadata["end"]) for c in chunks]
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in pairwise(spans)), "chunks overlap or are out of order"
    assert all(text[s:e] == c.page_content for (s, e), c in zip(spans, chunks, strict=True))
    assert _visible("".join(c.page_content for c in chunks)) == _visible(text)
    assert len({c.id for c in chunks}) == len(chunks), "chunk ids must be unique within a document"
    assert all(c.metadata["doc_chunks"] == len(chunks) for c in chunks)


@SETTINGS
@given(text=texts, size=st.sampled_from([50, 80]))
def test_chunks_stay_bounded(text, size):
    # a heading (≤ 2*size after splitting) keeps the unit below it (≤ 2*size): never more than 4*size
    assert all(s.end - s.start <= 4 * size for s in chunk_spans(text, size=size))


def test_a_run_of_bare_headings_is_not_one_giant_chunk():
    toc = "\n\n".join(f"# 第{i}章 标题" for i in range(200))
    assert max(s.end - s.start for s in chunk_spans(toc, size=80)) <= 80


@SETTINGS
@given(text=texts)
def test_sentences_cover_every_visible_character_once(text):
    spans = list(sentence_spans(text))
    assert all(a[1] <= b[0] for a, b in pairwise(spans))
    assert _visible("".join(text[s:e] for s, e in spans)) == _visible(text)


def _check_substring_is_found(text: str, data) -> None:
    if not text:
        return
    i = data.draw(st.integers(0, len(text) - 1), label="start")
    j = data.draw(st.integers(i + 1, len(text)), label="end")
    quote = text[i:j]
    span = find_span(quote, text)
    if not normalize(quote):
        assert span is None
        return
    assert span is not None, f"{quote!r} not found in {text!r}"
    assert normalize(text[span[0] : span[1]]) == normalize(quote)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, data=st.data())
def test_find_span_finds_any_slice_of_policy_text(text, data):
    _check_substring_is_found(text, data)


@SETTINGS
@given(text=st.text(), data=st.data())
def test_find_span_finds_any_slice_of_any_text(text, data):
    _check_substring_is_found(text, data)


def test_find_span_regressions():
    # a quote that ends or starts at a thousands separator (once not found at all)
    assert find_span("01,", "01,000") == (0, 2)
    assert find_span(",000万元", "1,000万元") == (2, 7)
    # a match may not start inside the expansion of one character ("…" is "..." after NFKC)
    text = "……补贴."
    start, end = find_span(".", text)
    assert text[start:end] == "."
    assert normalize("1, 000") == normalize("1000") == normalize("1,000")
