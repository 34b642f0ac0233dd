"""Files → LangChain ``Document`` objects with front-matter metadata.

Supported: ``.md``/``.txt`` (optional YAML front matter), ``.html``/``.htm``,
``.pdf``, ``.docx`` and ``.jsonl`` passage collections (``{id, text, title?}``,
one document per line, ids preserved).  Document id = path under the corpus
root without suffix (a passage keeps its own id).

Limits keep one file from costing hours of embedding: a document file over
``MAX_BYTES`` or a document text over ``MAX_CHARS`` characters is refused with
a message naming the file and the limit (split it); a passage ``.jsonl`` may be
up to ``MAX_JSONL_BYTES`` since it is read line by line.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from bot.chunking import CREDIT_HEADINGS
from bot.docx_limits import check_docx
from bot.encoding import EncodingUnclear, decode_text
from bot.errors import CorpusError, DocumentError
from bot.frontmatter import MAX_VALUE_CHARS, check_fields, parse_front_matter
from bot.quiet import clean_text, routed_to_logging

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx", ".jsonl")
MAX_BYTES = 32 * 2**20  # one document file
MAX_JSONL_BYTES = 200 * 2**20  # a passage collection
MAX_CHARS = 1_000_000  # one document's text: ~3,300 chunks, about ten minutes of embedding on two cores
MAX_LINE_ERRORS = 20  # bad lines reported one by one per .jsonl; the rest are counted
_MAGIC = {
    b"%PDF-": "a PDF file — give it the .pdf suffix",
    b"PK\x03\x04": "a ZIP archive (DOCX/XLSX?) — give a Word file the .docx suffix",
    b"\xd0\xcf\x11\xe0": "an old Office (.doc/.xls) file — save it as .docx",
    b"\x89PNG": "a PNG image — a picture has no text to index",
    b"\xff\xd8\xff": "a JPEG image — a picture has no text to index",
    b"GIF8": "a GIF image — a picture has no text to index",
    b"\x7fELF": "a program — not a document",
    b"{\\rtf": "an RTF file — save it as .docx or .txt",
}
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_META_KEYS = ("title", "source", "author", "published", "type", "language", "url", "column")
# Layout text kept apart from the body (front matter ``byline:`` and ``captions:``) is indexed after the body as
# sections of their own, found only by a question that asks for a credit (bot/credits.py), never mixed with the body.
MAX_CAPTIONS = 50


@dataclass
class LoadReport:
    """Documents loaded from a batch of files, and per-file errors."""

    documents: list[Document] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    files: int = 0


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to the supported files inside them, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES
                         and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.exists():
            found.append(path)
        else:
            raise CorpusError(f"{path}: no such file or folder — check the path (or BOT_CORPUS_DIR).")
    return found


def load_paths(paths: Iterable[Path], *, root: Path | None = None) -> LoadReport:
    """Load every supported file; a bad file is reported, the rest still load."""
    report = LoadReport()
    for path in discover(paths):
        report.files += 1
        try:
            report.documents.extend(load_file(path, root=root, errors=report.errors))
        except DocumentError as err:
            report.errors.append(err)
    return report


def doc_id_for(path: Path, root: Path | None) -> str:
    """Path under ``root`` without suffix, with forward slashes; just the name for a file outside ``root``.

    Both sides are resolved, so ``corpus/../outside.md`` is outside and never yields an id with ``..``.
    """
    path = path.resolve()
    rel = Path(path.name)
    if root is not None:
        try:
            rel = path.relative_to(root.resolve())
        except ValueError:
            pass
    stem = rel.with_suffix("")
    # a name made of dots ("...md") would give the path-like id ".."
    return (rel if stem.name in ("", ".", "..") else stem).as_posix()


def load_file(path: Path, *, root: Path | None = None, errors: list[DocumentError] | None = None) -> list[Document]:
    """Load one file into one or more documents (a ``.jsonl`` gives many).

    A ``.jsonl`` line that cannot be used is appended to ``errors`` (as
    ``file:line``) and the other lines still load; without ``errors`` the
    first bad line raises.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(path, f"unsupported file type '{suffix}' — use one of {', '.join(SUFFIXES)}")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise DocumentError(path, f"cannot read file ({err.strerror})") from err
    limit = MAX_JSONL_BYTES if suffix == ".jsonl" else MAX_BYTES
    if size > limit:
        raise DocumentError(path, f"file is {size / 2**20:.0f} MiB, over the {limit // 2**20} MiB limit for one file "
                                  "— split it into smaller files")
    if size == 0:
        raise DocumentError(path, "empty file — no text to index")
    if suffix == ".jsonl":
        return _load_jsonl(path, errors)
    try:
        text, meta = _LOADERS[suffix](path)
    except (RecursionError, MemoryError) as err:  # one hostile file must not abort the whole batch
        raise DocumentError(path, f"the file is built to exhaust the parser ({err.__class__.__name__}) — "
                                  "check where it came from and re-save it") from err
    text = text.strip("\n")
    if not text.strip():
        raise DocumentError(path, _NO_TEXT.get(suffix, "no text found, only blank space — add the document's text"))
    _check_length(path, text)
    doc_id = doc_id_for(path, root)
    meta.setdefault("title", doc_id.rsplit("/", 1)[-1])
    return [_document(doc_id, text, meta, path, credits=_credit_lines(path, meta))]


_NO_TEXT = {
    ".pdf": "no text layer (a scanned or image-only PDF?) — run OCR on it (e.g. ocrmypdf) and add the result",
    ".docx": "no text found in the DOCX (only images or empty paragraphs?) — add the text or run OCR on the images",
    ".html": "no visible text in the page (only scripts, styles or markup) — save the page with its content",
    ".htm": "no visible text in the page (only scripts, styles or markup) — save the page with its content",
}


def _check_length(path: Path | str, text: str) -> None:
    if len(text) > MAX_CHARS:
        raise DocumentError(path, f"text is {len(text):,} characters, over the {MAX_CHARS:,}-character limit for one "
                                  "document (it would take hours to embed) — split it into several files")


def _credit_lines(path: Path, meta: dict) -> dict[str, list[str]]:
    """The front matter's ``byline`` (one line) and ``captions`` (a list of lines), checked; {} when absent."""
    out: dict[str, list[str]] = {}
    byline = meta.get("byline")
    if byline not in (None, ""):
        out["byline"] = [" ".join(str(byline).split())]
    captions = meta.get("captions")
    if captions in (None, "", []):
        return out
    if isinstance(captions, str):
        captions = [captions]
    if not isinstance(captions, list) or not all(isinstance(c, str | int | float) for c in captions):
        raise DocumentError(path, "front matter field 'captions' must be a list of lines, one caption each "
                                  "(- \"▲ …。某某 摄\")")
    if len(captions) > MAX_CAPTIONS:
        raise DocumentError(path, f"front matter field 'captions' has {len(captions)} lines, over the "
                                  f"{MAX_CAPTIONS} allowed — keep the photo captions only")
    lines = [" ".join(str(c).split()) for c in captions]
    if any(len(line) > MAX_VALUE_CHARS for line in lines):
        raise DocumentError(path, f"front matter field 'captions' has a line over {MAX_VALUE_CHARS:,} characters "
                                  "— one caption per line")
    out["captions"] = [line for line in lines if line]
    return out


def credit_section(credits: dict[str, list[str]]) -> str:
    """The text indexed after a document's body for its byline and captions (headings 署名, 图片说明)."""
    parts = []
    for key, heading in CREDIT_HEADINGS.items():
        if credits.get(key):
            parts.append(f"## {heading}\n\n" + "\n\n".join(credits[key]))
    return "\n\n".join(parts)


def _document(doc_id: str, text: str, meta: dict, path: Path, *, credits: dict[str, list[str]] | None = None
              ) -> Document:
    text = clean_text(text)  # a NUL from a PDF, DOCX or JSON "\u0000" must not reach an answer
    clean: dict = {k: clean_text(str(meta[k])) for k in _META_KEYS if meta.get(k) not in (None, "")}
    section = clean_text(credit_section(credits or {}))
    if section:  # offsets of the body are unchanged; chunking keeps the credits in chunks of their own
        clean["body_end"] = len(text)
        text = f"{text}\n\n{section}"
    clean.update(doc_id=doc_id, path=str(path), doc_hash=hashlib.sha1(text.encode()).hexdigest()[:16])
    clean.setdefault("type", "news")
    return Document(page_content=text, metadata=clean, id=doc_id)


def read_text(path: Path) -> str:
    """Decode a text file: UTF-8 or a BOM, else the legacy Chinese/Japanese encoding that reads cleanly (``bot.encoding``)."""
    data = path.read_bytes()
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            raise DocumentError(path, f"not text: this is {kind}")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(path, "looks like a binary file, not text — convert it to .txt/.md/.pdf/.docx")
    try:
        text, _encoding = decode_text(data)
    except EncodingUnclear as err:
        raise DocumentError(path, f"unknown text encoding ({err}) — save it as UTF-8") from err
    if _looks_binary(text):
        raise DocumentError(path, "looks like a binary file, not text (many control characters) — "
                                  "convert it to .txt/.md/.pdf/.docx")
    return text


def _looks_binary(text: str) -> bool:
    """Binary data decoded as GB18030 is full of control characters; real text has almost none."""
    sample = text[:65536]
    controls = sum(1 for c in sample if c not in "\t\n\r\f\v" and unicodedata.category(c) == "Cc")
    return controls > max(2, len(sample) // 100)


def _load_text(path: Path) -> tuple[str, dict]:
    text = read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT.match(text)
    if not match:
        return text, {}
    return text[match.end():], parse_front_matter(path, match.group(1), fields=(*_META_KEYS, "byline"))


def _load_html(path: Path) -> tuple[str, dict]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    if soup.title:
        soup.title.decompose()
    lines = [line.strip() for line in soup.get_text("\n").splitlines()]
    text = "\n\n".join(line for line in lines if line)
    return text, {"title": title} if title else {}


def _load_pdf(path: Path) -> tuple[str, dict]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        with routed_to_logging("pypdf"):  # its repair notes are not for the CLI's output
            reader = PdfReader(str(path))  # a PDF locked only against editing opens with the empty password
            pages = [page.extract_text() or "" for page in reader.pages]
            title = reader.metadata.get("/Title") if reader.metadata else None
    except FileNotDecryptedError as err:
        raise DocumentError(path, "the PDF needs a password to open — save an unprotected copy") from err
    except PdfReadError as err:
        raise DocumentError(path, f"corrupt or unreadable PDF ({err}) — re-export it") from err
    except Exception as err:  # a damaged file can trip almost any error inside the parser
        raise DocumentError(path, f"corrupt or unreadable PDF ({err.__class__.__name__}) — re-export it") from err
    return "\n\n".join(p.strip() for p in pages if p.strip()), {"title": title} if title else {}


def _load_docx(path: Path) -> tuple[str, dict]:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_docx(path)  # before python-docx inflates and parses it
    try:
        document = docx.Document(str(path))
        paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
        title = document.core_properties.title or None
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as err:
        raise DocumentError(path, "corrupt or unreadable DOCX — open and re-save it in Word/LibreOffice") from err
    except Exception as err:  # damaged XML inside a valid ZIP (lxml) and the like
        raise DocumentError(path, f"corrupt or unreadable DOCX ({err.__class__.__name__}) — open and re-save it "
                                  "in Word/LibreOffice") from err
    return "\n\n".join(paragraphs), {"title": title} if title else {}


def _load_jsonl(path: Path, errors: list[DocumentError] | None) -> list[Document]:
    """One document per good line; each bad line is reported as ``file:line`` and skipped."""
    docs: list[Document] = []
    seen: dict[str, int] = {}
    bad = 0
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                doc = _jsonl_row(path, lineno, raw, seen)
            except DocumentError as err:
                located = DocumentError(path, err.reason, line=lineno)
                if errors is None:
                    raise located from err
                bad += 1
                if bad <= MAX_LINE_ERRORS:
                    errors.append(located)
                continue
            if doc is not None:
                docs.append(doc)
    if bad > MAX_LINE_ERRORS and errors is not None:
        errors.append(DocumentError(path, f"{bad - MAX_LINE_ERRORS} more bad line(s) skipped "
                                          f"({bad} in all, {len(docs)} passages loaded) — is this a JSONL file?"))
    if not docs and not bad:
        raise DocumentError(path, "no passages found, only blank lines — write one {\"id\", \"text\"} object per line")
    return docs


def _jsonl_row(path: Path, lineno: int, raw: bytes, seen: dict[str, int]) -> Document | None:
    where = path  # the caller adds the line number
    try:
        line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as err:
        raise DocumentError(where, "not UTF-8 text — save the file as UTF-8") from err
    if not line.strip():
        return None
    try:
        row = json.loads(line)
        json.dumps(row, ensure_ascii=False).encode("utf-8")  # a lone "\ud800" escape decodes but cannot be stored
    except json.JSONDecodeError as err:
        raise DocumentError(where, f"not valid JSON ({err.msg}) — one object per line") from err
    except UnicodeEncodeError as err:
        raise DocumentError(where, "invalid Unicode escape (a lone surrogate such as \\ud800) — fix the line") from err
    except RecursionError as err:  # brackets nested thousands deep: this line only, not the whole ingest
        raise DocumentError(where, "nested too deeply — one flat {\"id\", \"text\"} object per line") from err
    if not isinstance(row, dict) or not str(row.get("text") or "").strip():
        raise DocumentError(where, "missing 'text' — each line needs {\"id\", \"text\", \"title\"?}")
    check_fields(where, row, ("id", *_META_KEYS), what="field")
    check_fields(where, row, ("text",), what="field", max_chars=MAX_CHARS)
    pid = str(row.get("id") or "").strip()
    if not pid:
        raise DocumentError(where, "missing 'id' — each line needs {\"id\", \"text\", \"title\"?}")
    if pid in seen:
        raise DocumentError(where, f"duplicate id '{pid}' (first on line {seen[pid]}) — ids must be unique in a file")
    seen[pid] = lineno
    text = str(row["text"]).strip()
    _check_length(where, text)
    meta = {k: row.get(k) for k in _META_KEYS}
    meta["title"] = row.get("title")  # no title: the id is not text to embed or search
    return _document(pid, text, meta, path)


_LOADERS = {
    ".md": _load_text,
    ".markdown": _load_text,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
