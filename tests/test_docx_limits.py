"""DOCX bombs are refused from the ZIP directory and a streamed tag count, before python-docx parses them."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from bot import docx_limits
from bot.errors import DocumentError
from bot.loaders import load_file, load_paths


def _docx(paragraphs: int = 2, *, padding: int = 0) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("成都市人工智能产业政策。")
    out = io.BytesIO()
    document.save(out)
    body = b"<w:p/>" * paragraphs + b" " * padding
    result = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as zin, \
            zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", body + b"</w:body>")
            zout.writestr(info.filename, data)
    return result.getvalue()


def test_three_million_paragraphs_are_refused_in_a_second(tmp_path):
    path = tmp_path / "many.docx"
    path.write_bytes(_docx(3_000_000))
    assert path.stat().st_size < 1_000_000  # small on disk
    started = time.perf_counter()
    with pytest.raises(DocumentError, match="over 200,000 paragraphs") as err:
        load_file(path)
    assert time.perf_counter() - started < 5 and str(path) in str(err.value)


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path):
    path = tmp_path / "bomb.docx"
    path.write_bytes(_docx(padding=200 * 2**20))
    assert path.stat().st_size < 2 * 2**20
    started = time.perf_counter()
    with pytest.raises(DocumentError, match="unpacks to"):
        load_file(path)
    assert time.perf_counter() - started < 1


def test_a_body_part_over_its_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(docx_limits, "MAX_DOCUMENT_XML", 2**20)
    path = tmp_path / "big.docx"
    path.write_bytes(_docx(padding=3 * 2**20))
    with pytest.raises(DocumentError, match="text part unpacks"):
        load_file(path)


def test_paragraph_tags_cut_by_the_read_chunks_are_counted_once(tmp_path, monkeypatch):
    monkeypatch.setattr(docx_limits, "MAX_PARAGRAPHS", 400_000)
    path = tmp_path / "many.docx"
    path.write_bytes(_docx(399_990))  # 6-byte tags across 1 MiB chunks: a double count would trip the limit
    assert load_file(path)[0].page_content == "成都市人工智能产业政策。"


def test_an_ordinary_docx_and_the_rest_of_a_batch_still_load(tmp_path):
    (tmp_path / "ok.docx").write_bytes(_docx(10))
    (tmp_path / "many.docx").write_bytes(_docx(300_000))
    report = load_paths([tmp_path], root=tmp_path)
    assert [d.metadata["doc_id"] for d in report.documents] == ["ok"]
    assert [e.path.name for e in report.errors] == ["many.docx"]
