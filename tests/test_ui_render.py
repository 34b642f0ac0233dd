"""Safe rendering, safe uploads and the login limiter (no Streamlit session needed)."""

from __future__ import annotations

import re

import pytest

from bot.answer import Answer, Citation
from ui import render
from ui.staff import ADDRESS_FREE_FAILURES, AttemptLimiter, address_delay, password_ok
from ui.uploads import UploadError, move_aside, safe_name, source_file, store_upload

EVIL = '补贴<script>alert(1)</script>为[点我](javascript:alert(1))<img src=x onerror="alert(2)">&amp;元'


def _tags(html_text: str) -> set[str]:
    return {m.lower() for m in re.findall(r"<\s*([a-zA-Z]+)", html_text)}


def _citation(**kw) -> Citation:
    base = {"n": 1, "doc_id": "evil", "title": "[t](javascript:x) <b>标题</b>", "chunk_id": "evil#1",
            "quote": "为[点我]", "text": EVIL, "start": 0, "end": 0, "score": 1.0, "source": "*src*",
            "published": "2024-01"}
    return Citation(**{**base, **kw})


def test_answer_html_escapes_markup_and_keeps_only_our_tags():
    out = render.answer_html(EVIL + "[1]")
    assert _tags(out) == {"div", "sup"}
    assert "&lt;script&gt;" in out and "&lt;img" in out and "&amp;amp;" in out
    assert '<sup class="pqa-ref">[1]</sup>' in out


def test_highlight_marks_the_span_and_escapes_every_piece():
    text = "前文<b>x</b>引用<script>y</script>后文"
    start = text.index("引用")
    out = render.highlight_html(text, start, start + len("引用<script>y</script>"))
    assert _tags(out) == {"div", "mark"}
    assert '<mark class="pqa-hl">引用&lt;script&gt;y&lt;/script&gt;</mark>' in out
    assert render.highlight_html("abc", 5, 9).count("<mark") == 0  # offsets past the end mark nothing


def test_chunk_html_finds_the_quote_inside_its_chunk():
    out = render.chunk_html(_citation())
    assert '<mark class="pqa-hl">为[点我]</mark>' in out and _tags(out) == {"div", "mark"}
    missing = render.chunk_html(_citation(quote="不在块中<i>"))
    assert "不在块中&lt;i&gt;" in missing and _tags(missing) == {"div", "mark"}


def test_document_html_has_an_anchor_at_the_cited_span():
    out = render.document_html("甲乙丙丁", 1, 3)
    assert '<mark class="pqa-hl" id="pqa-cited">乙丙</mark>' in out


def test_labels_cannot_form_links_or_html():
    label = render.source_label(_citation())
    assert "](" not in label.replace("\\](", "") and "\\[t\\]\\(javascript" in label
    assert "\\<b\\>" in label and "\\*src\\*" in label
    assert render.md_escape("a\nb") == "a b"


def test_refusal_has_no_sources_and_escaped_hint():
    out = render.refusal_html("无法回答<i>", "收录：《<b>x</b>》")
    assert "pqa-refusal" in out and "&lt;i&gt;" in out and "&lt;b&gt;" in out


def test_conversation_markdown_lists_citations_and_defuses_links():
    answer = Answer(question="那标准研制呢?", standalone_question="标准研制的奖励?", answer="给予60万元[1]", refused=False,
                    engine="extractive", citations=[_citation()])
    text = render.conversation_markdown([render.ExportTurn(question="那标准研制呢?", answer=answer)], title="对话",
                                        labels={"question": "问题", "searched": "检索问题", "sources": "出处"})
    assert text.startswith("# 对话\n")
    assert "## 问题: 那标准研制呢?" in text and "*检索问题: 标准研制的奖励?*" in text
    assert "给予60万元\\[1\\]" in text and "1. \\[t\\](javascript:x) \\<b\\>标题\\</b\\> (\\*src\\*, 2024-01)" in text
    assert "    > 为\\[点我\\]" in text


@pytest.mark.parametrize(("given", "expected"), [
    ("../../etc/passwd.md", "passwd.md"),
    ("..\\..\\boot.ini.TXT", "boot_ini.txt"),
    (".hidden.md", "hidden.md"),
    ("政策 文件(2024).PDF", "政策_文件_2024.pdf"),
    ("..", "document"),
    ("／etc／x.md", "x.md"),  # full-width slashes become real ones under NFKC, then are dropped
    ("a" * 300 + ".md", "a" * 80 + ".md"),
])
def test_safe_name(given, expected):
    assert safe_name(given) == expected


def test_store_upload_never_escapes_or_overwrites_by_accident(tmp_path):
    corpus = tmp_path / "corpus"
    first = store_upload(corpus, "../../x.md", b"# one", max_bytes=1000)
    assert first.path == (corpus / "uploads" / "x.md").resolve()
    assert store_upload(corpus, "x.md", b"# one", max_bytes=1000).unchanged
    second = store_upload(corpus, "x.md", b"# two", max_bytes=1000)
    assert second.path.name == "x-2.md" and first.path.read_bytes() == b"# one"
    replaced = store_upload(corpus, "x.md", b"# three", max_bytes=1000, replace=True)
    assert replaced.replaced and replaced.path == first.path and first.path.read_bytes() == b"# three"
    assert not list((corpus / "uploads").glob(".upload-*"))  # no temporary files left behind
    with pytest.raises(UploadError, match="not supported"):
        store_upload(corpus, "run.exe", b"MZ", max_bytes=1000)
    with pytest.raises(UploadError, match="over the"):
        store_upload(corpus, "big.md", b"x" * 2000, max_bytes=1000)
    with pytest.raises(UploadError, match="empty"):
        store_upload(corpus, "blank.txt", b"  \n", max_bytes=1000)


def test_source_file_and_move_aside(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "news").mkdir(parents=True)
    doc = corpus / "news" / "a.md"
    doc.write_text("x", encoding="utf-8")
    assert source_file(corpus, "news/a") == doc.resolve()
    assert source_file(corpus, "../corpus/news/a") == doc.resolve()
    assert source_file(corpus, "../../etc/passwd") is None
    moved = move_aside(doc, tmp_path / "trash")
    assert not doc.exists() and moved.read_text(encoding="utf-8") == "x" and moved.parent == tmp_path / "trash"


def test_limiter_locks_after_repeated_failures_and_backs_off():
    limiter = AttemptLimiter(max_failures=3, window=60, lockout=10)
    for now in (0, 1):
        limiter.failed("ip", now=now)
    assert limiter.wait_seconds("ip", now=2) == 0
    limiter.failed("ip", now=2)
    assert limiter.wait_seconds("ip", now=2) == 10 and limiter.wait_seconds("other", now=2) == 0
    assert limiter.wait_seconds("ip", now=12) == 0
    for now in (13, 14, 15):
        limiter.failed("ip", now=now)
    assert limiter.wait_seconds("ip", now=15) == 20  # second lockout is twice as long
    limiter.succeeded("ip")
    assert limiter.wait_seconds("ip", now=16) == 0
    old = AttemptLimiter(max_failures=2, window=5, lockout=10)
    old.failed("ip", now=0)
    old.failed("ip", now=100)  # the first failure has left the window
    assert old.wait_seconds("ip", now=100) == 0


def test_password_comparison():
    assert password_ok("秘密 pw", "秘密 pw") and not password_ok("秘密", "秘密 pw")


def test_an_address_is_slowed_down_never_locked():
    assert address_delay(ADDRESS_FREE_FAILURES - 1) == 0
    delays = [address_delay(ADDRESS_FREE_FAILURES + k) for k in range(10)]
    assert delays == sorted(delays) and 0 < delays[0] < 1 and delays[-1] <= 8


def test_local_time_is_readable_and_in_the_readers_zone():
    assert render.local_time("2026-01-05T06:03:09+00:00", "Asia/Shanghai") == "2026-01-05 14:03"
    assert render.local_time("2026-01-05T06:03:09+00:00", "America/New_York") == "2026-01-05 01:03"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", render.local_time("2026-01-05T06:03:09+00:00", "Nowhere/x"))
    assert render.local_time("not a time") == "not a time"


def test_document_shows_markdown_headings_without_marks_and_anchors_the_quote():
    text = "# 总则\n\n第一段。\n\n## 第二章 补贴 ##\n引用<b>这里</b>的话。\n"
    start = text.index("引用")
    out = render.document_html(text, start, start + len("引用<b>这里</b>"))
    assert "#" not in out.replace("#pqa", "")
    assert '<span class="pqa-h pqa-h1">总则</span>' in out and '<span class="pqa-h pqa-h2">第二章 补贴</span>' in out
    assert '<mark class="pqa-hl" id="pqa-cited">引用&lt;b&gt;这里&lt;/b&gt;</mark>' in out
    assert _tags(out) == {"div", "span", "mark"}
    across = render.document_html(text, text.index("第一段"), text.index("的话"))  # a quote across a heading
    assert across.count('id="pqa-cited"') == 1 and across.count("<mark") == 3
    assert "#" not in render.document_html("# 仅标题", -1, -1)


def test_names_too_long_for_the_file_system_never_raise(tmp_path):
    long_id = "\U00020000" * 100
    assert source_file(tmp_path, f"uploads/{long_id}") is None  # used to raise OSError (name too long)
    stored = store_upload(tmp_path, long_id + ".md", "正文。".encode(), max_bytes=1000)
    assert len(stored.path.name.encode()) <= 255 and stored.path.read_text(encoding="utf-8") == "正文。"
    moved = move_aside(stored.path, tmp_path / "trash")
    assert moved.is_file() and len(moved.name.encode()) <= 255
    moved_again = move_aside(store_upload(tmp_path, long_id + ".md", b"x", max_bytes=10).path, tmp_path / "trash")
    assert moved_again.is_file() and moved_again != moved


def test_an_article_citation_is_labelled_by_its_article():
    cited = _citation(title="中华人民共和国民法典 总则", article="《中华人民共和国民法典》第五十四条",
                      path="总则 › 第二章 自然人 › 第五十四条", source="国家法律法规数据库", published="")
    assert render.source_label(cited) == "[1] 《中华人民共和国民法典》第五十四条 · 国家法律法规数据库"
    # the chat shows the whole article (the cited chunk) with the quote highlighted
    article = "第五十四条 自然人从事工商业经营，经依法登记，为个体工商户。个体工商户可以起字号。"
    out = render.chunk_html(cited.model_copy(update={"text": article, "quote": "为个体工商户"}))
    assert '<mark class="pqa-hl">为个体工商户</mark>' in out and out.count("第五十四条") == 1
