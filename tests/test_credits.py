"""A document's byline and photo captions: kept apart from the body, found only by a question that asks for a credit.

The engine tests use a real embedded Chroma index and the bundled embedder on a small invented news document.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import credits
from bot.chunking import CREDITS, is_credit, split_document
from bot.engine import Engine
from bot.errors import DocumentError
from bot.loaders import load_file

NEWS = """---
title: 河西区推出智能制造扶持新政
source: 河西日报
author: 林晓
byline: "河西日报 记者 林晓"
captions:
  - "▲ 河西区智能制造产业园。图据河西发布微信公众号"
  - "◀ 巡检机器人“小河”。周远 摄"
---

1月5日，河西区发布《河西区支持智能制造发展的若干措施》。对首次认定为智能工厂的企业，给予一次性奖励50万元。

2023年，河西区智能制造产业规模达到120亿元，同比增长18%。

巡检机器人“小河”已在园区投入使用，每天巡检两次。
"""


@pytest.fixture
def news(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hexi.md").write_text(NEWS, encoding="utf-8")
    return corpus


@pytest.fixture
def engine(news, settings_factory) -> Engine:
    engine = Engine(settings_factory(corpus_dir=news))
    engine.ingest()
    return engine


def test_byline_and_captions_are_indexed_after_the_body_in_chunks_of_their_own(news):
    (doc,) = load_file(news / "hexi.md", root=news)
    body_end = doc.metadata["body_end"]
    body, section = doc.page_content[:body_end], doc.page_content[body_end:]
    assert "摄" not in body and "记者" not in body
    assert "## 署名\n\n河西日报 记者 林晓" in section and "◀ 巡检机器人“小河”。周远 摄" in section
    chunks = split_document(doc)
    credit = [c for c in chunks if c.metadata.get("part") == CREDITS]
    assert [c.page_content.splitlines()[-1] for c in credit] == [
        "河西日报 记者 林晓", "▲ 河西区智能制造产业园。图据河西发布微信公众号", "◀ 巡检机器人“小河”。周远 摄"]
    assert all(is_credit(c.id) for c in credit) and not any(is_credit(c.id) for c in chunks if c not in credit)
    for c in chunks:  # every chunk is still a slice of the document's text
        assert doc.page_content[c.metadata["start"] : c.metadata["end"]] == c.page_content
    # the body's chunks are those of the same document without credits: nothing already indexed moves
    plain = NEWS.replace('byline: "河西日报 记者 林晓"\n', "").split("captions:")[0] + "---\n" + NEWS.split("---\n", 2)[2]
    (news / "plain.md").write_text(plain, encoding="utf-8")
    (bare,) = load_file(news / "plain.md", root=news)
    assert "body_end" not in bare.metadata
    assert [c.page_content for c in split_document(bare)] == [c.page_content for c in chunks if c not in credit]


def test_captions_that_are_not_a_list_of_lines_are_refused_by_name(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: t\ncaptions:\n  photo: {a: 1}\n---\n正文。\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="'captions' must be a list of lines"):
        load_file(bad)
    bad.write_text("---\ntitle: t\nbyline: [a, b]\n---\n正文。\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="'byline' must be one value"):
        load_file(bad)


@pytest.mark.parametrize(("question", "kind"), [
    ("这篇报道是哪位记者写的？", "author"),
    ("Who wrote this article?", "author"),
    ("巡检机器人的照片是谁拍摄的？", "photographer"),
    ("Who took the photo of the robot?", "photographer"),
    ("产业园那张图片来自哪里？", "source"),
    ("Where does the picture of the industrial park come from?", "source"),
    ("这篇文章是哪家媒体刊发的？", "outlet"),
    # no credit asked: a source without a picture or the document, a document without a credit word
    ("智能工厂奖励的资金来源是什么？", None),
    ("What is the source of the award money?", None),
    ("According to the article, how large was the industry in 2023?", None),
])
def test_which_credit_a_question_asks_for(question, kind):
    assert credits.asked(question) == kind


@pytest.mark.parametrize("question", ["报道中巡检机器人“小河”的照片是谁拍的？", "Who took the photo of the inspection robot Xiaohe?"])
def test_a_photo_credit_is_answered_from_its_caption(engine, question):
    answer = engine.ask(question)
    assert not answer.refused, answer.refusal_reason
    (cit,) = answer.citations
    assert cit.quote == "◀ 巡检机器人“小河”。周远 摄" and "周远" in answer.answer
    assert engine.document_text(cit.doc_id)[cit.start : cit.end] == cit.quote


def test_the_byline_answers_who_wrote_it(engine):
    answer = engine.ask("这篇关于河西区智能制造新政的报道是哪位记者写的？")
    assert not answer.refused and "林晓" in answer.answer
    assert answer.citations[0].quote == "河西日报 记者 林晓"


def test_a_photographer_the_caption_does_not_name_is_not_answered(engine):
    answer = engine.ask("河西区智能制造产业园的照片是谁拍摄的？")
    assert answer.refused
    # the caption is cited as related, saying what it gives instead
    assert answer.answer.startswith("资料未写明拍摄者") and "图据河西发布微信公众号" in answer.answer
    # a picture no caption is about: the body never answers who took it
    assert engine.ask("智能工厂的照片是谁拍的？").refused


def test_credits_never_answer_or_crowd_out_a_question_about_the_body(engine):
    for question in ("巡检机器人每天巡检几次？", "2023年河西区智能制造产业规模是多少？"):
        answer = engine.ask(question)
        assert not answer.refused and not any(is_credit(c.chunk_id) for c in answer.retrieved)
    # words only the captions hold are not found by the searches
    hits = engine.retriever(k=10).search("周远 摄 图据 河西发布微信公众号")
    assert hits and not any(is_credit(str(h.id)) for h in hits)
