"""Decode a text file whose encoding is not declared, or say that it cannot be told.

UTF-8 (with or without BOM) and UTF-16/32 with a BOM are certain.  For legacy
double-byte files GB18030 used to be tried next and accepted nearly any bytes,
so a Big5 (Taiwan/Hong Kong) or Shift-JIS (Japanese) file was indexed as
garbled text.  Now every East Asian legacy encoding that decodes the bytes is a
candidate and ``charset-normalizer`` measures how garbled each decoding reads;
GB18030 keeps ties (the corpus is mainland Chinese), another encoding wins only
when it reads clearly cleaner, and a file no candidate reads cleanly is
reported instead of indexed.
"""

from __future__ import annotations

import codecs

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_LEGACY = ("gb18030", "big5", "shift_jis", "euc_jp")  # EUC-KR left out: it won short GBK texts wrongly
_TIE = 0.01  # chaos within this of the cleanest reading counts as just as clean
_CLEAN = 0.1  # a reading messier than this is not trusted
# Mainland text is almost all GB2312 characters; Big5 or Shift-JIS bytes read as GB18030 give many GBK-only
# ones (their second bytes 0x40-0x7E, Shift-JIS first bytes 0x81-0x9F). Short texts leave chaos scores unreliable,
# so a GB18030 reading this plausible is kept without a contest.
_MAINLAND = 0.98


class EncodingUnclear(ValueError):
    """No encoding reads the bytes cleanly; the message says which were tried."""


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``; raises ``EncodingUnclear`` when no encoding can be chosen with confidence."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    decodable = [e for e in _LEGACY if _decodes(data, e)]
    if not decodable:
        raise EncodingUnclear("not UTF-8, GB18030, Big5, Shift-JIS or EUC-JP")
    if decodable[0] == "gb18030" and _mainland_share(data.decode("gb18030")) >= _MAINLAND:
        return data.decode("gb18030"), "gb18030"
    chaos = _chaos(data, decodable)
    if not chaos:
        raise EncodingUnclear(f"reads as garbled text in every candidate encoding ({', '.join(decodable)})")
    best = min(chaos, key=chaos.__getitem__)
    if chaos[best] > _CLEAN:
        raise EncodingUnclear(f"no encoding reads it cleanly (best guess {best})")
    if chaos.get("gb18030", 1.0) <= chaos[best] + _TIE:
        best = "gb18030"
    return data.decode(best), best


def _mainland_share(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` in GB2312 (the common mainland set), kana not counted."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 1.0
    return sum(1 for c in wide if _decodes_to_gb2312(c) and not "\u3040" <= c <= "\u30ff") / len(wide)  # kana: EUC-JP


def _decodes_to_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _chaos(data: bytes, encodings: list[str]) -> dict[str, float]:
    """How garbled each decoding reads (0 clean), per ``charset-normalizer``; messy ones are left out."""
    from charset_normalizer import from_bytes

    names = {codecs.lookup(e).name: e for e in encodings}
    found: dict[str, float] = {}
    for match in from_bytes(data, cp_isolation=encodings, threshold=0.5):
        ours = names.get(codecs.lookup(match.encoding).name)
        if ours and ours not in found:
            found[ours] = match.chaos
    return found
