"""NUL bytes never reach answer text; pypdf's repair notes never reach the CLI's output."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from langchain_core.documents import Document

from bot.citations import check_answer
from bot.engine import Engine
from bot.loaders import load_file
from tests.conftest import ROOT

NUL_TEXT = "成都市对首版次软件\x00给予最高不超过1000万元的补贴。\x00"


def test_nul_and_controls_are_removed_from_loaded_text_and_titles(tmp_path):
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(json.dumps({"id": "a", "title": "补贴\x00通知", "text": NUL_TEXT}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    (doc,) = load_file(jsonl)
    assert "\x00" not in doc.page_content and "\x00" not in doc.metadata["title"]
    md = tmp_path / "late-nul.md"
    md.write_text("政策正文。\n" * 3000 + NUL_TEXT + "\x1b[31m", encoding="utf-8")  # the NUL is past the binary sniff
    (doc,) = load_file(md)
    assert "\x00" not in doc.page_content and "\x1b" not in doc.page_content and "\n" in doc.page_content


def test_a_document_with_nul_bytes_gives_an_answer_without_them(settings_factory, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "p.jsonl").write_text(json.dumps({"id": "p1", "title": "通知", "text": NUL_TEXT}, ensure_ascii=False),
                                    encoding="utf-8")
    engine = Engine(settings_factory(corpus_dir=corpus))
    assert not engine.ingest().errors
    answer = engine.ask("首版次软件补贴最高多少?")
    assert not answer.refused and "1000万元" in answer.answer
    assert "\x00" not in answer.answer and "\\u0000" not in json.dumps(answer.model_dump(), ensure_ascii=False)


def test_a_model_answer_with_nul_bytes_is_shown_without_them():
    checked = check_answer("补贴「不超过1000万元」\x00[1]。", [Document(page_content=NUL_TEXT.replace("\x00", ""))])
    assert checked.text == "补贴「不超过1000万元」[1]。"


def test_pypdf_repair_notes_do_not_clutter_the_cli(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    out = io.BytesIO()
    writer.write(out)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "broken.pdf").write_bytes(out.getvalue().replace(b"startxref", b"startxref\n999999\n%%", 1))
    done = subprocess.run([sys.executable, "-m", "bot", "ingest", str(corpus)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**_env(), "BOT_DATA_DIR": str(tmp_path / "data")})
    output = done.stdout + done.stderr
    assert "broken.pdf" in output  # the one line about the file is still there
    assert "startxref" not in output and "Object Streams" not in output, output


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
