"""Every network wait has a deadline: a frozen Chroma server, a model that trickles tokens."""

from __future__ import annotations

import shutil
import signal
import time

import pytest

from bot.deadlines import within
from bot.engine import Engine
from bot.errors import IndexError_
from tests.conftest import CORPUS, free_port, need
from tests.fake_openai import Reply
from tests.test_llm_faults import GOOD, QUESTION, QUOTE, assert_verified
from tests.test_reliability_faults import _start_chroma


def test_within_bounds_the_whole_iteration_not_each_item():
    def trickle():
        for i in range(100):
            time.sleep(0.2)
            yield i

    started = time.perf_counter()
    got = []
    with pytest.raises(TimeoutError):
        for item in within(trickle(), seconds=1.0):
            got.append(item)
    assert time.perf_counter() - started < 1.5 and 2 <= len(got) <= 6


def test_within_passes_items_errors_and_the_end_through():
    assert list(within(iter([1, 2, 3]), seconds=5)) == [1, 2, 3]

    def broken():
        yield 1
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(within(broken(), seconds=5))


def test_a_model_that_trickles_a_token_every_2_s_is_cut_at_the_total_timeout(openai_engine, fake):
    # each piece arrives well inside the per-read timeout, so only a total deadline stops it
    trickle = lambda request: Reply(text=GOOD.format(request.source_with(QUOTE)) * 20, piece=1, pace=2.0)
    fake.script(trickle, trickle)
    engine = openai_engine(openai_timeout=3, openai_retries=0)
    for run in (engine.ask, lambda q: list(engine.stream(q))[-1]):
        started = time.perf_counter()
        answer = run(QUESTION)
        assert time.perf_counter() - started < 8
        assert answer.engine == "extractive" and QUOTE in answer.answer
        assert answer.notice and "超时" in answer.notice
        assert_verified(answer)


@pytest.mark.slow
def test_a_frozen_chroma_server_gives_a_clear_error_in_seconds_and_recovers(settings_factory, tmp_path):
    exe = shutil.which("chroma")
    need(exe is not None, "the 'chroma' command (from chromadb) is not installed")
    assert exe is not None
    port = free_port()
    server = _start_chroma(exe, port, tmp_path / "chroma-server")
    try:
        engine = Engine(settings_factory(corpus_dir=CORPUS, chroma_host="127.0.0.1", chroma_port=port,
                                         chroma_timeout=2, collection="frozen-test"))
        assert not engine.ingest().errors
        before = engine.ask(QUESTION)
        assert not before.refused

        server.send_signal(signal.SIGSTOP)  # the process lives, its socket accepts, nothing answers
        for call in (lambda: engine.ask(QUESTION), engine.documents):
            started = time.perf_counter()
            with pytest.raises(IndexError_) as err:
                call()
            assert time.perf_counter() - started < 15
            assert f"127.0.0.1:{port}" in str(err.value) and "chroma run" in str(err.value)

        server.send_signal(signal.SIGCONT)
        assert engine.ask(QUESTION).answer == before.answer  # the same Engine works again
    finally:
        server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait(timeout=30)


def test_the_chroma_timeout_reaches_the_http_session(chroma_server, settings_factory):
    from bot.index import make_client

    host, port = chroma_server
    client = make_client(settings_factory(chroma_host=host, chroma_port=port, chroma_timeout=7))
    assert client._server._session.timeout.read == 7


def test_a_stalled_follow_up_rewrite_is_cut_at_the_total_timeout_retries_included(openai_engine, fake):
    fake.script(Reply(delay=4), Reply(delay=4), Reply(delay=4))  # each attempt stalls past its own read timeout
    engine = openai_engine(openai_timeout=1.5, openai_retries=2)
    history = [("user", QUESTION), ("assistant", "成都每年发放的算力券总额不超过1000万元。[1]")]
    started = time.perf_counter()
    answer = engine.ask("那国家标准呢?", history=history)
    assert time.perf_counter() - started < 6  # three attempts of 1.5 s plus backoff took 9 s
    assert answer.engine == "extractive" and answer.notice and "超时" in answer.notice
