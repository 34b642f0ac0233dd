"""Loaders for every supported format (bot.loaders)."""

import json

import pytest

from bot.errors import DocumentError
from bot.loaders import load_file, load_paths

ARTICLE = "对经认定的“首版次”软件产品，给予最高250万元的资金补贴。"


def test_markdown_front_matter_becomes_metadata(tmp_path):
    path = tmp_path / "policy" / "rules.md"
    path.parent.mkdir()
    path.write_text(f"---\ntitle: 若干政策措施\nsource: 市经信局\npublished: '2024-01-18'\ntype: policy\n---\n\n{ARTICLE}\n",
                    encoding="utf-8")
    (doc,) = load_file(path, root=tmp_path)
    assert doc.page_content == ARTICLE
    assert doc.metadata["doc_id"] == "policy/rules"
    assert doc.metadata["title"] == "若干政策措施"
    assert doc.metadata["published"] == "2024-01-18" and doc.metadata["type"] == "policy"


def test_plain_text_gbk_and_bom_decode_without_mojibake(tmp_path):
    (tmp_path / "gbk.txt").write_bytes(ARTICLE.encode("gb18030"))
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + ARTICLE.encode("utf-8"))
    for name in ("gbk.txt", "bom.txt"):
        (doc,) = load_file(tmp_path / name, root=tmp_path)
        assert doc.page_content == ARTICLE


def test_html_drops_scripts_and_styles(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(f"<html><head><title>通知</title><style>p{{color:red}}</style></head>"
                    f"<body><script>alert(1)</script><p>{ARTICLE}</p></body></html>", encoding="utf-8")
    (doc,) = load_file(path, root=tmp_path)
    assert doc.metadata["title"] == "通知"
    assert ARTICLE in doc.page_content
    assert "alert" not in doc.page_content and "color" not in doc.page_content


def test_docx(tmp_path):
    import docx

    document = docx.Document()
    document.core_properties.title = "政策原文"
    document.add_paragraph("第一条 总则。")
    document.add_paragraph(ARTICLE)
    document.save(tmp_path / "rules.docx")
    (doc,) = load_file(tmp_path / "rules.docx", root=tmp_path)
    assert doc.metadata["title"] == "政策原文"
    assert doc.page_content == f"第一条 总则。\n\n{ARTICLE}"


def test_pdf_with_chinese_text(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(tmp_path / "rules.pdf"))
    pdf.setFont("STSong-Light", 12)
    pdf.drawString(40, 800, ARTICLE)
    pdf.save()
    (doc,) = load_file(tmp_path / "rules.pdf", root=tmp_path)
    assert "250万元" in doc.page_content and "首版次" in doc.page_content


def test_jsonl_passages_keep_their_ids(tmp_path):
    path = tmp_path / "passages.jsonl"
    rows = [{"id": "p-1", "text": ARTICLE, "title": "甲"}, {"id": "p-2", "text": "第二段。"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    docs = load_file(path, root=tmp_path)
    assert [d.metadata["doc_id"] for d in docs] == ["p-1", "p-2"]
    assert "title" not in docs[1].metadata  # an id is not text to embed or search


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "no text"),
        ("binary.txt", b"\x00\x01\x02\x03" * 100, "binary"),
        ("broken.pdf", b"%PDF-1.4 not really a pdf", "PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip", "DOCX"),
        ("notes.rtf", b"{\\rtf1}", "unsupported"),
    ],
)
def test_bad_files_name_the_file_and_the_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as err:
        load_file(path, root=tmp_path)
    assert name in str(err.value) and reason in str(err.value)


def test_a_bad_file_does_not_stop_the_batch(tmp_path):
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "bad.pdf").write_bytes(b"garbage")
    report = load_paths([tmp_path], root=tmp_path)
    assert [d.metadata["doc_id"] for d in report.documents] == ["good"]
    assert len(report.errors) == 1 and "bad.pdf" in str(report.errors[0])
