"""YAML front matter of a Markdown/text document, read within bounds.

Front matter is a handful of short fields.  Anything far from that — a block
over ``MAX_CHARS``, nesting over ``MAX_DEPTH``, aliases over ``MAX_ALIASES`` or
expanding past the block's own size, a list or mapping where a field such as
``title`` takes one value, a value over ``MAX_VALUE_CHARS`` — is refused with a
``DocumentError`` naming the file and the field, and the other files of the
batch are still ingested.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from bot.errors import DocumentError
from bot.safe_yaml import YAMLBoundsError, load_bounded

MAX_CHARS = 16_384
MAX_DEPTH = 10
MAX_ALIASES = 20
MAX_VALUE_CHARS = 1_000
_SCALARS = (str, int, float, bool, dt.date)


def parse_front_matter(path: Path, block: str, *, fields: tuple[str, ...]) -> dict[str, Any]:
    """The mapping in ``block``; each of ``fields`` present must be one short scalar value."""
    try:
        meta = load_bounded(block, max_chars=MAX_CHARS, max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES)
    except YAMLBoundsError as err:
        raise DocumentError(path, f"front matter refused: {err}") from err
    except yaml.YAMLError as err:
        raise DocumentError(path, f"front matter is not valid YAML ({err.__class__.__name__}) — fix the block "
                                  "between '---' lines") from err
    meta = meta or {}
    if not isinstance(meta, dict):
        raise DocumentError(path, "front matter must be a mapping of key: value lines")
    check_fields(path, meta, fields, what="front matter field")
    return meta


def check_fields(where: Path | str, meta: dict[str, Any], fields: tuple[str, ...], *, what: str,
                 max_chars: int = MAX_VALUE_CHARS) -> None:
    """Each of ``fields`` present in ``meta`` is one scalar of at most ``max_chars`` characters."""
    for key in fields:
        value = meta.get(key)
        if value is not None and not isinstance(value, _SCALARS):
            raise DocumentError(where, f"{what} '{key}' must be one value, not a "
                                       f"{'list' if isinstance(value, list) else 'mapping'} — write it on one line")
        if value is not None and len(str(value)) > max_chars:
            raise DocumentError(where, f"{what} '{key}' is {len(str(value)):,} characters, over the "
                                       f"{max_chars:,}-character limit — shorten it")
