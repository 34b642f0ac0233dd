"""Files → LangChain ``Document`` objects with front-matter metadata.

Supported: ``.md``/``.txt`` (optional YAML front matter), ``.html``/``.htm``,
``.pdf``, ``.docx`` and ``.jsonl`` passage collections (``{id, text, title?}``,
one document per line, ids preserved).  Document id = path under the corpus
root without suffix (a passage keeps its own id).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from langchain_core.documents import Document

from bot.errors import CorpusError, DocumentError

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx", ".jsonl")
MAX_BYTES = 200 * 1024 * 1024
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_META_KEYS = ("title", "source", "author", "published", "type", "language", "url", "column")


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
            report.documents.extend(load_file(path, root=root))
        except DocumentError as err:
            report.errors.append(err)
    return report


def doc_id_for(path: Path, root: Path | None) -> str:
    """Path under ``root`` without suffix, with forward slashes."""
    path = path.resolve()
    if root is not None:
        try:
            return path.relative_to(root.resolve()).with_suffix("").as_posix()
        except ValueError:
            pass
    return path.with_suffix("").name


def load_file(path: Path, *, root: Path | None = None) -> list[Document]:
    """Load one file into one or more documents (a ``.jsonl`` gives many)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(path, f"unsupported file type '{suffix}' — use one of {', '.join(SUFFIXES)}")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise DocumentError(path, f"cannot read file ({err.strerror})") from err
    if size > MAX_BYTES:
        raise DocumentError(path, f"file is {size // 2**20} MiB, over the {MAX_BYTES // 2**20} MiB limit — split it")
    if suffix == ".jsonl":
        return list(_load_jsonl(path))
    text, meta = _LOADERS[suffix](path)
    text = text.strip("\n")
    if not text.strip():
        raise DocumentError(path, "no text found (empty file, or a scanned PDF without a text layer)")
    doc_id = doc_id_for(path, root)
    meta.setdefault("title", doc_id.rsplit("/", 1)[-1])
    return [_document(doc_id, text, meta, path)]


def _document(doc_id: str, text: str, meta: dict, path: Path) -> Document:
    clean = {k: str(meta[k]) for k in _META_KEYS if meta.get(k) not in (None, "")}
    clean.update(doc_id=doc_id, path=str(path), doc_hash=hashlib.sha1(text.encode()).hexdigest()[:16])
    clean.setdefault("type", "news")
    return Document(page_content=text, metadata=clean, id=doc_id)


def read_text(path: Path) -> str:
    """Decode a text file: UTF-8 (with or without BOM), else GB18030, else a detected charset."""
    data = path.read_bytes()
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(path, "looks like a binary file, not text — convert it to .txt/.md/.pdf/.docx")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DocumentError(path, "unknown text encoding — save it as UTF-8")
    return str(best)


def _load_text(path: Path) -> tuple[str, dict]:
    text = read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT.match(text)
    if not match:
        return text, {}
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as err:
        raise DocumentError(path, f"front matter is not valid YAML ({err.__class__.__name__}) — fix the block between '---' lines") from err
    if not isinstance(meta, dict):
        raise DocumentError(path, "front matter must be a mapping of key: value lines")
    return text[match.end():], meta


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
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, OSError) as err:
        raise DocumentError(path, f"corrupt or unreadable PDF ({err}) — re-export it") from err
    return "\n\n".join(p.strip() for p in pages if p.strip()), {"title": title} if title else {}


def _load_docx(path: Path) -> tuple[str, dict]:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as err:
        raise DocumentError(path, "corrupt or unreadable DOCX — open and re-save it in Word/LibreOffice") from err
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    title = document.core_properties.title or None
    return "\n\n".join(paragraphs), {"title": title} if title else {}


def _load_jsonl(path: Path) -> Iterator[Document]:
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DocumentError(where, f"not valid JSON ({err.msg}) — one object per line") from err
            if not isinstance(row, dict) or not str(row.get("text") or "").strip():
                raise DocumentError(where, "missing 'text' — each line needs {\"id\", \"text\", \"title\"?}")
            pid = str(row.get("id") or "").strip()
            if not pid:
                raise DocumentError(where, "missing 'id' — each line needs {\"id\", \"text\", \"title\"?}")
            if pid in seen:
                raise DocumentError(where, f"duplicate id '{pid}' — ids must be unique in a file")
            seen.add(pid)
            meta = {k: row.get(k) for k in _META_KEYS}
            meta["title"] = row.get("title") or pid
            yield _document(pid, str(row["text"]).strip(), meta, path)


_LOADERS = {
    ".md": _load_text,
    ".markdown": _load_text,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
