"""Normalisation, quote finding and sentence splitting (bot.text)."""

import itertools

from bot.text import find_span, is_cjk, normalize, sentence_spans, tokenize


def test_normalize_folds_width_case_space_and_thousands():
    assert normalize("ＡＩ 产业 1,000万元（试行）") == normalize("ai产业1000万元(试行)")


def test_find_span_maps_back_to_original_offsets():
    text = "对经认定的“首版次”软件产品,\n按其研发支出 10% 的比例给予补贴。"
    start, end = find_span("按其研发支出10%的比例", text)
    assert text[start:end] == "按其研发支出 10% 的比例"
    assert find_span("不存在的句子", text) is None


def test_sentences_do_not_break_titles_or_numbers():
    text = "《关于促进产业发展。若干措施》发布。同比增长36.9%。“这很重要！”他说。End. Next one!"
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans[0] == "《关于促进产业发展。若干措施》发布。"
    assert "同比增长36.9%。" in spans
    assert "“这很重要！”" in spans
    assert spans[-2:] == ["End.", "Next one!"]


def test_sentences_cover_all_non_space_text_in_order():
    text = "第一句。第二句！\n\n  第三句没有句号"
    spans = list(sentence_spans(text))
    assert [text[s:e] for s, e in spans] == ["第一句。", "第二句！", "第三句没有句号"]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_tokenize_drops_punctuation_and_stopwords():
    tokens = tokenize("请问首版次软件能拿多少补贴？")
    assert "补贴" in tokens and "软件" in tokens
    assert "多少" not in tokens and "？" not in tokens


def test_is_cjk():
    assert is_cjk("算力券每年发放总额是多少?")
    assert not is_cjk("How many AI companies are in Chengdu?")
