"""Putting uploaded files into the corpus folder safely, and taking them out again.

An upload's name comes from the browser and cannot be trusted: it is reduced
to a plain file name (no folders, no ``..``, no leading dot), written under
``<corpus>/uploads/`` and never over an existing file unless asked.  Files
leave the corpus by being moved aside (to ``<data>/trash``), never deleted, so
a wrong click can be undone by moving the file back.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from bot.errors import BotError
from bot.loaders import SUFFIXES

UPLOAD_FOLDER = "uploads"
_UNSAFE = re.compile(r"[^\w\-]+")
_MAX_STEM = 80
# File systems limit a name to 255 *bytes*: 80 four-byte characters are already 320.  The stem keeps room for the
# suffix, a "-2" and the time stamp a file gets when it is moved aside.
_MAX_STEM_BYTES = 180
_NAME_BYTES = 255


class UploadError(BotError):
    """An uploaded file was refused; the message says why and what to do.

    ``kind`` and ``values`` let the page say the same in the reader's language (``ui.i18n`` key ``upload_KIND``).
    """

    def __init__(self, message: str, *, kind: str = "", **values: object) -> None:
        super().__init__(message)
        self.kind, self.values = kind, values


@dataclass(frozen=True)
class StoredFile:
    """Where an upload was written."""

    original: str
    path: Path
    unchanged: bool = False
    replaced: bool = False


def allowed_types() -> list[str]:
    """File extensions the loaders read, without dots."""
    return [s.lstrip(".") for s in SUFFIXES]


def safe_name(name: str) -> str:
    """A plain, portable file name for an uploaded ``name`` (Chinese letters kept)."""
    # Normalise first: NFKC turns full-width slashes and dots into real ones, which must then be dropped.
    base = unicodedata.normalize("NFKC", str(name))
    base = PurePosixPath(base.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _cut_bytes(_UNSAFE.sub("_", stem).strip("._-")[:_MAX_STEM], _MAX_STEM_BYTES).strip("._-") or "document"
    suffix = _cut_bytes(_UNSAFE.sub("", suffix).lower(), 16)
    return f"{stem}.{suffix}" if suffix else stem


def _cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def store_upload(corpus_dir: Path, name: str, data: bytes, *, max_bytes: int, replace: bool = False) -> StoredFile:
    """Write one upload under ``corpus_dir/uploads``; raises ``UploadError`` for a file that is refused."""
    clean = safe_name(name)
    suffix = Path(clean).suffix
    if suffix not in SUFFIXES:
        raise UploadError(f"{name}: file type '{suffix or '(none)'}' is not supported — use one of {', '.join(SUFFIXES)}",
                          kind="unsupported", name=name, suffix=suffix or "(none)", allowed=", ".join(SUFFIXES))
    if len(data) > max_bytes:
        size, limit = f"{len(data) / 2**20:.1f}", f"{max_bytes / 2**20:.0f}"
        raise UploadError(f"{name}: {size} MB is over the {limit} MB limit — split the document or raise "
                          "BOT_UPLOAD_MAX_MB", kind="too_big", name=name, size=size, limit=limit)
    if not data.strip():
        raise UploadError(f"{name}: the file is empty — check that the right file was chosen", kind="empty", name=name)
    try:
        return _place(corpus_dir, name, clean, data, replace=replace)
    except UploadError:
        raise
    except OSError as err:  # a name the file system refuses, a full disk, no permission: say so, no traceback
        reason = err.strerror or str(err)
        raise UploadError(f"{name}: cannot be saved as {clean} ({reason}) — rename the file, or check space and "
                          "permissions of the corpus folder", kind="cannot_save", name=name, reason=reason) from err


def _place(corpus_dir: Path, name: str, clean: str, data: bytes, *, replace: bool) -> StoredFile:
    folder = (corpus_dir / UPLOAD_FOLDER).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / clean
    if target.resolve().parent != folder:
        raise UploadError(f"{name}: not a valid file name — rename the file and upload it again", kind="bad_name",
                          name=name)
    if target.exists() and target.read_bytes() == data:
        return StoredFile(original=name, path=target, unchanged=True)
    replaced = target.exists() and replace
    if target.exists() and not replace:
        target = _free_name(target)
    _write_atomic(target, data)
    return StoredFile(original=name, path=target, replaced=replaced)


def _free_name(path: Path) -> Path:
    n = 2
    while (candidate := path.with_name(f"{path.stem}-{n}{path.suffix}")).exists():
        n += 1
    return candidate


def _write_atomic(target: Path, data: bytes) -> None:
    # A hidden temporary file: the loaders skip dot-files, so a half-written upload is never ingested.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise UploadError(f"{target.name}: cannot be saved ({err.strerror}) — check space and permissions "
                          "of the corpus folder") from err


def source_file(corpus_dir: Path, doc_id: str) -> Path | None:
    """The corpus file a document came from (a document id is its path without suffix), if it is there."""
    root = corpus_dir.resolve()
    for suffix in SUFFIXES:
        try:
            candidate = (root / f"{doc_id}{suffix}").resolve()
            if candidate.is_file() and candidate.is_relative_to(root):
                return candidate
        except OSError:  # an id no file can be named after (too long): it did not come from a file of that name
            continue
    return None


def move_aside(path: Path, folder: Path) -> Path:
    """Move a file out of the corpus into ``folder`` under a time-stamped name; returns the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = _cut_bytes(path.stem, _NAME_BYTES - len(path.suffix.encode()) - 24)  # room for the stamp and a "-2"
    target = folder / f"{datetime.now():%Y%m%d-%H%M%S}-{stem}{path.suffix}"
    if target.exists():
        target = _free_name(target)
    shutil.move(str(path), target)
    return target
