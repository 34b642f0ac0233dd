"""Run golden sets as pytest items: ``pytest --golden tests/golden/seed.yaml``.

One item per question, named by its id (``-k q07`` or ``-k amount`` selects by
id or tag).  A failing item shows the question, the answer, what was expected
and the citations.  By default the items ask an engine over the configured
corpus folder, indexed into a temporary data directory (the embedding cache
is reused); ``--golden-corpus`` and ``--golden-data-dir`` change that.

Enable with ``-p bot.evaluation.pytest_plugin`` (the repository's pytest.ini does).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from bot.evaluation.golden import GoldenCase, load_golden
from bot.evaluation.metrics import CaseResult
from bot.evaluation.report import describe_failure

_ENGINE = pytest.StashKey[Any]()
_TMP = pytest.StashKey[tempfile.TemporaryDirectory]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("golden", "golden question sets (python -m bot eval as pytest items)")
    group.addoption("--golden", action="append", default=[], metavar="FILE",
                    help="run this golden set (.yaml/.jsonl) as one test item per question; repeatable")
    group.addoption("--golden-corpus", metavar="PATH",
                    help="ingest this folder or passage .jsonl instead of the configured corpus folder")
    group.addoption("--golden-data-dir", metavar="DIR",
                    help="use (and keep) this data dir and its configured collection instead of a temporary one")
    group.addoption("--golden-engine", choices=["extractive", "openai"], help="answer engine (default: BOT_ENGINE)")
    group.addoption("--golden-k", type=int, help="chunks retrieved per question (default: BOT_K)")
    group.addoption("--golden-mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help="retrieval mode")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "golden: a question from a golden set (added by --golden)")
    golden = [str(_resolve(config, p)) for p in config.getoption("golden")]
    if not golden:
        return
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        config.args = list(config.args) + [p for p in golden if p not in config.args]
    else:  # nothing named on the command line: run only the golden sets, not the whole suite
        config.args = golden


def pytest_unconfigure(config: pytest.Config) -> None:
    tmp = config.stash.get(_TMP, None)
    if tmp is not None:
        tmp.cleanup()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    wanted = {_resolve(parent.config, p) for p in parent.config.getoption("golden")}
    if file_path.resolve() in wanted:
        return GoldenFile.from_parent(parent, path=file_path)
    return None


def _resolve(config: pytest.Config, path: str) -> Path:
    return (Path(config.invocation_params.dir) / path).resolve()


class GoldenFile(pytest.File):
    """A golden set file; its cases become items."""

    def collect(self):
        for case in load_golden(self.path).cases:
            item = GoldenItem.from_parent(self, name=case.id, case=case)
            item.add_marker("golden")
            item.extra_keyword_matches.update(case.tags)
            yield item


class GoldenCaseFailed(Exception):
    """The bot's reply to a golden question failed a check."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.id)
        self.result = result


class GoldenItem(pytest.Item):
    """One golden question, asked and graded like ``python -m bot eval`` does."""

    def __init__(self, *, case: GoldenCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from bot.evaluation.runner import ask_and_grade

        opt = self.config.getoption
        result, _answer = ask_and_grade(_engine(self.config), self.case, answer_engine=opt("golden_engine"),
                                        k=opt("golden_k"), mode=opt("golden_mode"))
        if not result.passed:
            raise GoldenCaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, GoldenCaseFailed):
            return f"golden case {self.case.id} failed\n" + describe_failure(excinfo.value.result)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.case.id}: {self.case.question}"


def _engine(config: pytest.Config):
    """One engine for the whole session, built on first use."""
    engine = config.stash.get(_ENGINE, None)
    if isinstance(engine, Exception):
        raise engine
    if engine is not None:
        return engine
    from bot.evaluation.runner import open_engine
    from bot.settings import Settings

    base = Settings()
    data_dir = config.getoption("golden_data_dir")
    if data_dir:
        settings = base.model_copy(update={"data_dir": Path(data_dir)})
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bot-golden-")
        config.stash[_TMP] = tmp
        # a private embedded store: never touch a configured server's collection
        settings = base.model_copy(update={"data_dir": Path(tmp.name), "chroma_host": None,
                                           "embedding_cache": base.embedding_cache_path})
    corpus = config.getoption("golden_corpus")
    try:
        engine, _report = open_engine(settings, corpus=Path(corpus) if corpus else None)
    except Exception as err:
        config.stash[_ENGINE] = err
        raise
    config.stash[_ENGINE] = engine
    return engine
