"""Cold start: from process start to the first answer, with an index already built.

The CLI (``python -m bot ask``) runs in a fresh process; the chat UI is
started with ``streamlit run ui/app.py`` and driven by headless Chromium until
the first answer is on the page.  Each run gets an empty embedding cache, so
the question's embedding is part of the time, as for a new question.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bot.bench.models import ColdStart, Load
from bot.bench.scale import free_port
from bot.bench.timing import load_now
from bot.settings import PROJECT_ROOT, Settings, env_name

CHROMIUM = "/usr/bin/chromium"


def _env(settings: Settings, *, collection: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update({env_name("data_dir"): str(settings.data_dir), env_name("collection"): collection,
                env_name("embedding_cache"): str(cache), env_name("engine"): "extractive"})
    return env


def _fresh_cache(workdir: Path, n: int) -> Path:
    path = workdir / f"coldstart-cache-{n}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


@dataclass
class _CliRun:
    answer_s: float
    exit_s: float
    timings_ms: dict[str, float]


def _ask_once(question: str, env: dict[str, str]) -> _CliRun:
    """Start ``python -m bot ask``; the answer is there when its output starts (printed all at once at the end)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "ask", question, "--json"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    assert proc.stdout is not None
    first = proc.stdout.read(1)
    answer_s = time.perf_counter() - t0
    out, err = proc.communicate()
    exit_s = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(err.decode(errors="replace").strip()[-300:])
    return _CliRun(answer_s=answer_s, exit_s=exit_s, timings_ms=json.loads(first + out)["timings_ms"])


def cli(settings: Settings, *, collection: str, questions: list[str], workdir: Path) -> ColdStart:
    """Seconds from starting ``python -m bot ask QUESTION --json`` to its answer on stdout, once per question."""
    what = "CLI: python -m bot ask"
    workdir.mkdir(parents=True, exist_ok=True)
    load0 = load_now()
    try:
        runs = [_ask_once(q, _env(settings, collection=collection, cache=_fresh_cache(workdir, n)))
                for n, q in enumerate(questions)]
    except RuntimeError as err:
        return ColdStart(what=what, note=f"failed: {err}")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import bot.cli, bot.engine"], cwd=PROJECT_ROOT, check=True)
    phases = {"python + imports (bot.engine)": round(time.perf_counter() - t0, 2)}
    for key in ("retrieve", "answer", "verify"):
        phases[f"{key} (first question)"] = round(statistics.median(r.timings_ms.get(key, 0.0) for r in runs) / 1000, 2)
    phases["until the process exited"] = round(statistics.median(r.exit_s for r in runs), 2)
    answers = [round(r.answer_s, 2) for r in runs]
    return ColdStart(what=what, runs_s=answers, median_s=round(statistics.median(answers), 2), phases_s=phases,
                     load=Load(before=load0, after=load_now()))


def streamlit(settings: Settings, *, collection: str, question: str, workdir: Path) -> ColdStart:
    """Seconds from ``streamlit run`` to the first answer shown in a real browser."""
    what = "Streamlit: streamlit run ui/app.py → first answer in Chromium"
    import importlib.util

    if not (PROJECT_ROOT / "ui" / "app.py").exists():
        return ColdStart(what=what, note="ui/app.py does not exist")
    if importlib.util.find_spec("playwright") is None or not os.path.exists(CHROMIUM):
        return ColdStart(what=what, note=f"not measured: needs the playwright package and {CHROMIUM}")
    port = free_port()
    env = _env(settings, collection=collection, cache=_fresh_cache(workdir, 99))
    try:
        phases = _time_streamlit(env, port, question, workdir)
    except Exception as err:  # report what could be measured instead of failing the whole run
        return ColdStart(what=what, note=f"not measured: {err.__class__.__name__}: {str(err)[:200]}")
    load = Load(before=phases.pop("load before"), after=load_now())
    first = phases["first answer shown"]
    return ColdStart(what=what, runs_s=[first], median_s=first, phases_s=phases, load=load,
                     note="one run; the browser is already open when the server starts, as a user's would be")


def _time_streamlit(env: dict[str, str], port: int, question: str, workdir: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                     "--disable-background-networking", "--no-first-run"])
        page = browser.new_page(locale="zh-CN")
        log = (workdir / "streamlit.log").open("w")
        load0 = load_now()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.headless", "true",
                                 "--server.address", "127.0.0.1", "--server.port", str(port)],
                                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            phases = {"load before": load0, **_drive(page, f"http://127.0.0.1:{port}", question, t0, proc)}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            browser.close()
    return phases


def _drive(page, url: str, question: str, t0: float, proc: subprocess.Popen) -> dict[str, float]:
    phases: dict[str, float] = {}
    deadline = time.time() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError("streamlit exited during start-up")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                break
        except OSError:
            if time.time() > deadline:
                raise TimeoutError("streamlit did not come up") from None
            time.sleep(0.05)
    phases["server healthy"] = round(time.perf_counter() - t0, 2)
    page.goto(url)
    box = page.locator("textarea[data-testid=stChatInputTextArea]")
    box.wait_for(timeout=120_000)
    phases["chat box shown"] = round(time.perf_counter() - t0, 2)
    box.fill(question)
    box.press("Enter")
    page.locator(".pqa-answer sup.pqa-ref, .pqa-refusal").first.wait_for(timeout=120_000)
    phases["first answer shown"] = round(time.perf_counter() - t0, 2)
    return phases
