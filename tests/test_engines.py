"""Answer engines are plugins: a third engine is a new module, registered by name, checked like the others."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from bot import engines
from bot.citations import Claim
from bot.engines import AnswerEngine, Reply
from bot.errors import BotError
from bot.settings import Settings


class FirstSentenceEngine(AnswerEngine):
    """Quotes the first 12 characters of the best chunk, plus one claim that is not in its source."""

    name = "first"

    def answer(self, question: str, chunks, *, lang: str) -> Iterator[str | Reply]:
        quote = chunks[0].page_content[:12]
        yield Reply(text=f"{quote}[1]又及[2]", claims=[Claim(n=1, quote=quote), Claim(n=2, quote="不在资料里的话")],
                    engine=self.name)


@pytest.fixture
def first_engine():
    engines.register("first", f"{__name__}:FirstSentenceEngine")
    yield
    engines._registry.pop("first", None)


def test_a_registered_engine_answers_through_the_same_chain_and_verification(seed_engine, first_engine):
    assert "first" in engines.names()
    answer = seed_engine.ask("算力券每年发放总额是多少?", engine="first")
    assert answer.engine == "first" and not answer.refused
    assert [c.n for c in answer.citations] == [1] and answer.dropped_citations == 1  # the made-up quote is dropped
    assert answer.citations[0].quote in answer.citations[0].text
    assert answer.answer.endswith("又及")  # its marker removed with the failed citation
    *pieces, final = list(seed_engine.stream("算力券每年发放总额是多少?", engine="first"))
    assert "".join(pieces) == final.answer == answer.answer


def test_an_unknown_engine_is_a_clear_error():
    with pytest.raises(BotError, match=r"unknown answer engine 'nope'.*extractive, openai"):
        engines.engine_class("nope")
    with pytest.raises(ValidationError, match="BOT_ENGINE must be one of"):
        Settings(engine="nope")
