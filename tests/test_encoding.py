"""Legacy encodings are detected, not forced through GB18030 (which accepts almost any bytes)."""

from __future__ import annotations

import random

import pytest

from bot.encoding import EncodingUnclear, decode_text
from bot.errors import DocumentError
from bot.loaders import load_file

MAINLAND = "成都市进一步促进人工智能产业高质量发展的若干政策措施。对软件产品给予最高不超过1000万元的补贴，支持企业开展算力服务。"
TAIWAN = "臺北市進一步促進人工智慧產業高品質發展的若干政策措施。對軟體產品給予最高不超過1000萬元的補貼，支持企業開展算力服務。"
JAPANESE = "人工知能産業の高品質な発展を促進するための政策措置について、東京都は補助金を最大1000万円支給します。"


@pytest.mark.parametrize(("text", "encoding"), [
    (TAIWAN, "big5"), (JAPANESE, "shift_jis"), (JAPANESE, "euc_jp"), (TAIWAN[:8], "big5"), (JAPANESE[:10], "shift_jis"),
    (MAINLAND, "gbk"), (MAINLAND + "《㐀䶵》", "gb18030"), (MAINLAND[:10], "gbk"),
    (MAINLAND, "utf-8"), (MAINLAND, "utf-8-sig"), (MAINLAND, "utf-16"),
])
def test_each_encoding_decodes_to_the_original_text(text, encoding):
    assert decode_text(text.encode(encoding))[0] == text


@pytest.mark.parametrize(("text", "encoding"), [(TAIWAN, "big5"), (JAPANESE, "shift_jis")])
def test_a_big5_or_shift_jis_file_is_indexed_as_its_real_text(tmp_path, text, encoding):
    path = tmp_path / "notice.txt"
    path.write_bytes(text.encode(encoding))
    assert load_file(path)[0].page_content == text


def test_bytes_no_encoding_reads_cleanly_are_reported_naming_the_file(tmp_path):
    rnd = random.Random(7)
    data = bytes(rnd.choice(range(0x81, 0xFF)) for _ in range(4000))
    with pytest.raises(EncodingUnclear):
        decode_text(data)
    path = tmp_path / "mystery.txt"
    path.write_bytes(data)
    with pytest.raises(DocumentError, match="unknown text encoding") as err:
        load_file(path)
    assert str(path) in str(err.value) and "UTF-8" in str(err.value)
