"""Bounds a DOCX must meet before it is parsed: a DOCX is a ZIP of XML, and ZIP sizes are cheap to fake.

The 32 MiB file limit says nothing about what is inside: a 1.6 MB ZIP bomb
inflated to 3.2 GB, and a 330 KB file held three million empty paragraphs
(over 300 s and 2.1 GB in ``python-docx``).  ``check_docx`` reads only the ZIP
directory and streams ``word/document.xml`` once, counting paragraph tags, so
a bomb costs a few milliseconds per megabyte and never reaches the XML parser.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from bot.errors import DocumentError

MAX_ENTRIES = 10_000
MAX_UNCOMPRESSED = 160 * 2**20  # all parts together (pictures included)
MAX_DOCUMENT_XML = 48 * 2**20  # the body: ~1,000,000 characters even with heavy formatting
MAX_PARAGRAPHS = 200_000  # ~5 characters each at the 1,000,000-character text limit
_PARAGRAPH = re.compile(rb"<w:p[\s>/]")
_BODY = "word/document.xml"


def check_docx(path: Path) -> None:
    """Raise ``DocumentError`` if the DOCX would inflate past the bounds; a corrupt ZIP is left to the parser."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise DocumentError(path, f"the DOCX holds {len(infos):,} parts, over {MAX_ENTRIES:,} — re-save it "
                                          "in Word/LibreOffice")
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED:
                raise DocumentError(path, f"the DOCX unpacks to {total / 2**20:,.0f} MiB, over the "
                                          f"{MAX_UNCOMPRESSED // 2**20} MiB limit — split it or remove large pictures")
            body = next((i for i in infos if i.filename == _BODY), None)
            if body is not None:
                _check_body(path, archive, body)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        return  # unreadable: python-docx reports it as a corrupt DOCX


def _check_body(path: Path, archive: zipfile.ZipFile, body: zipfile.ZipInfo) -> None:
    if body.file_size > MAX_DOCUMENT_XML:
        raise DocumentError(path, f"the DOCX text part unpacks to {body.file_size / 2**20:,.0f} MiB, over the "
                                  f"{MAX_DOCUMENT_XML // 2**20} MiB limit — split it into several files")
    paragraphs, read, tail = 0, 0, b""
    with archive.open(body) as stream:  # stops at the declared size even if the data says otherwise
        while chunk := stream.read(2**20):
            read += len(chunk)
            if read > MAX_DOCUMENT_XML:
                raise DocumentError(path, f"the DOCX text part unpacks past {MAX_DOCUMENT_XML // 2**20} MiB — "
                                          "split it into several files")
            data = tail + chunk
            paragraphs += len(_PARAGRAPH.findall(data))
            tail = data[-4:]  # a tag cut by the chunk edge is counted with the next chunk, never twice
            if paragraphs > MAX_PARAGRAPHS:
                raise DocumentError(path, f"the DOCX has over {MAX_PARAGRAPHS:,} paragraphs — split it into "
                                          "several files")
