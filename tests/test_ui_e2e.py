"""End to end in a real browser: ``streamlit run ui/app.py`` driven by headless Chromium.

Starts the app on a free port with an empty data folder (so the first index
build is part of the run), asks a question about the seed corpus, checks the
answer, its citation and the highlighted quote, and saves a screenshot under
``test-artifacts/``.  A document full of markup is indexed too: the browser
must show it as text and run none of it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT, free_port, need

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
REWARD_Q = "对主导制订国际标准的企业奖励多少?"
PASSWORD = "e2e-staff-password"
EVIL_DOC = """---
title: 测试文档
---

测试专项补贴为每家企业8888元<script>window.__pwned = 1</script>,详见[申请指南](javascript:window.__pwned=2)<img src=x onerror="window.__pwned=3">。
"""

# An id that is Markdown for an image (shown in the duplicate-id warning) and a title with bare URLs (shown in an
# example question): both must stay text — no image fetched, no link made.
EVIL_JSONL = (
    '{"id": "![x](http://host/x.png)", "title": "见 http://host/page 与 www.host.org 的说明", "text": "甲。"}\n'
    '{"id": "![x](http://host/x.png)", "text": "乙。"}\n')

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def serve(tmp_path, embed_cache_dir, *, password: str | None = None, markup_doc: bool = True):
    """A running ``streamlit run ui/app.py`` on 127.0.0.1 with a fresh data folder; yields its URL."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    if markup_doc:
        (corpus / "zz-test").mkdir()
        (corpus / "zz-test" / "markup.md").write_text(EVIL_DOC, encoding="utf-8")
        (corpus / "zz-test" / "ids.jsonl").write_text(EVIL_JSONL, encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(BOT_DATA_DIR=str(tmp_path / "data"), BOT_CORPUS_DIR=str(corpus),
               BOT_EMBEDDING_CACHE=str(embed_cache_dir / "embeddings.sqlite3"))
    if password:
        env["BOT_ADMIN_PASSWORD"] = password
    log = (tmp_path / "streamlit.log").open("w")
    # The `streamlit` command, as a user types it (``python -m streamlit`` would put the project root on the path
    # and hide import errors of the page scripts).
    proc = subprocess.Popen([str(Path(sys.executable).with_name("streamlit")), "run", "ui/app.py",
                             "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--server.port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def app_url(tmp_path, embed_cache_dir):
    with serve(tmp_path, embed_cache_dir) as url:
        yield url


@contextlib.contextmanager
def browser_page(*, lang: str = "zh-CN"):
    """A headless Chromium page at 1280 px; requests that would leave 127.0.0.1 are blocked and recorded."""
    need(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    need(importlib.util.find_spec("playwright") is not None, "the playwright package is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale=lang)
            outside: list[str] = []

            def only_local(route):
                host = urllib.parse.urlsplit(route.request.url).hostname or ""
                if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            page.outside_requests = outside
            yield page
        finally:
            browser.close()


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "streamlit exited during start-up"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer on {url} within {timeout}s")


def _wait_for_toasts_to_close(page) -> None:
    """The "index built" toast closes by itself after a few seconds; the screenshot is clearer without it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # a toast still showing only makes the picture busier
        page.locator("[data-testid=stToast]").first.wait_for(state="detached", timeout=10_000)
    page.wait_for_timeout(300)


def _local_icon_only(page) -> None:
    icons = page.evaluate("Array.from(document.querySelectorAll('link[rel*=icon]')).map(l => l.href)")
    assert icons and all(urllib.parse.urlsplit(u).hostname == "127.0.0.1" for u in icons), icons
    assert page.outside_requests == []  # fully offline: no font, icon or image from the internet


def test_browser_chat_answers_with_a_citation(tmp_path, embed_cache_dir):
    """A fresh install (only the bundled corpus): the README screenshot is taken here."""
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(tmp_path, embed_cache_dir, markup_doc=False) as url, browser_page() as page:
        page.goto(url)
        box = page.locator("textarea[data-testid=stChatInputTextArea]")
        box.wait_for(timeout=60_000)
        page.get_by_text("可以这样问").wait_for(timeout=180_000)  # the first index build is done
        page.locator("[data-testid=stSidebar]").get_by_text("文档 1 篇 · 片段 16 个").wait_for(timeout=30_000)

        box.fill(REWARD_Q)
        box.press("Enter")
        answer = page.locator(".pqa-answer sup.pqa-ref").first
        answer.wait_for(timeout=120_000)
        assert "60万元" in page.locator(".pqa-answer").nth(1).inner_text()
        source = page.locator("[data-testid=stExpander]").first
        assert "成都如何打造AI创新之城" in source.inner_text()
        source.locator("summary").click()
        mark = page.locator("mark.pqa-hl").first
        mark.wait_for(timeout=10_000)
        assert mark.inner_text().startswith("对主导制订国际、国家、行业标准的企业")
        _wait_for_toasts_to_close(page)
        page.screenshot(path=str(ARTIFACTS / "screenshot-chat.png"))

        page.get_by_role("button", name="在全文中查看").first.click()
        doc = page.locator(".pqa-doc")
        doc.wait_for(timeout=30_000)
        assert "## " not in doc.inner_text() and doc.locator(".pqa-h2").count() == 5  # headings, not raw marks: the body's three, 署名, 图片说明
        # it opens at the quote: the box has scrolled and the highlighted sentence is inside its visible part
        page.wait_for_function("() => document.querySelector('.pqa-doc').scrollTop > 0", timeout=10_000)
        page.wait_for_timeout(300)
        outer, quote = doc.bounding_box(), page.locator("#pqa-cited").bounding_box()
        assert outer["y"] <= quote["y"] and quote["y"] + quote["height"] <= outer["y"] + outer["height"]
        page.screenshot(path=str(ARTIFACTS / "screenshot-document.png"))
        _local_icon_only(page)


def test_browser_staff_page_opened_first_then_markup_stays_text(tmp_path, embed_cache_dir):
    """Restarted with a password, a staff member reloads /knowledge: the first request is a staff page."""
    with serve(tmp_path, embed_cache_dir, password=PASSWORD) as url, browser_page() as page:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{url}/knowledge")
        page.locator("input[type=password]").wait_for(timeout=60_000)
        body = page.locator("body").inner_text()
        assert "ModuleNotFoundError" not in body and "Traceback" not in body
        nav = page.locator("[data-testid=stSidebarNav]").inner_text()
        assert "知识库" in nav and "评测" in nav
        assert not {"app", "knowledge", "evaluation"} & {line.strip() for line in nav.splitlines()}  # no file names

        page.goto(url)  # the chat builds the index; the bundled article and a document full of markup
        box = page.locator("textarea[data-testid=stChatInputTextArea]")
        page.get_by_text("可以这样问").wait_for(timeout=180_000)
        alerts = page.locator("[data-testid=stAlert]")
        alerts.filter(has_text="![x](http://host/x.png)").first.wait_for(timeout=10_000)  # the id, as text
        example = page.get_by_role("button", name="见 http://host/page 与 www.host.org 的说明", exact=False)
        example.first.wait_for(timeout=10_000)
        assert alerts.locator("img, a").count() == 0 and example.first.locator("a").count() == 0  # no link, no image
        box.fill("测试专项补贴每家企业多少元?")
        box.press("Enter")
        page.get_by_text("8888元").first.wait_for(timeout=120_000)
        page.locator("[data-testid=stExpander]").last.locator("summary").click()
        page.wait_for_timeout(1000)
        shown = page.locator(".pqa-answer, .pqa-chunk").all_inner_texts()
        assert any("<script>window.__pwned = 1</script>" in text for text in shown)  # shown as text
        assert page.locator(".pqa-answer img, .pqa-chunk img, .pqa-answer a, .pqa-chunk a").count() == 0
        assert page.evaluate("window.__pwned === undefined") and not dialogs
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screenshot-markup.png"))
        _local_icon_only(page)

        page.goto(f"{url}/knowledge")
        page.locator("input[type=password]").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        table = page.locator("[data-testid=stDataFrame]")
        table.wait_for(timeout=60_000)
        page.wait_for_timeout(2500)  # the grid sizes its columns to their contents after the first paint
        # every column fits at 1280 px, the chunk count included: nothing to scroll sideways to
        scroller = table.locator(".dvn-scroller").first
        assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "a column is hidden off to the right"
        page.screenshot(path=str(ARTIFACTS / "screenshot-knowledge.png"))
        _local_icon_only(page)
