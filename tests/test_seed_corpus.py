"""Checks the curated seed article against the raw third-party seed text.

The raw seed lives outside the repo (../shared/seed beside the repo checkout);
the tests skip cleanly when it is not available.
"""
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"
RAW = SEED_DIR / "chengdu-ai-innovation-city.txt"
CURATED = REPO / "corpus" / "news" / "chengdu-ai-innovation-city.md"
GOLDEN = REPO / "tests" / "golden" / "seed.yaml"

FRONT_MATTER_KEYS = {"title", "source", "author", "published", "type", "language", "column", "byline", "captions"}

_WS = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _WS.sub("", text)


def _read_curated():
    text = CURATED.read_text(encoding="utf-8")
    m = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, re.S)
    assert m, "curated document must start with a YAML front matter block"
    meta = yaml.safe_load(m.group(1))
    return meta, m.group(2)


@pytest.fixture(scope="module")
def raw_text():
    if not RAW.is_file():
        pytest.skip(f"seed data not available at {SEED_DIR}")
    return RAW.read_text(encoding="utf-8")


def test_front_matter():
    meta, body = _read_curated()
    assert FRONT_MATTER_KEYS <= set(meta)
    assert meta["published"] == "2024-01"
    assert meta["type"] == "news"
    assert meta["language"] == "zh"
    assert isinstance(meta["captions"], list) and meta["captions"]
    # layout debris must not leak into the body
    for s in [meta["title"], meta["column"], meta["byline"], *meta["captions"]]:
        assert _squash(s) not in _squash(body)
    assert meta["author"] not in body
    assert meta["source"] in meta["byline"] and meta["author"] in meta["byline"]


def test_byline_is_the_raw_seed_byline(raw_text):
    meta, _ = _read_curated()
    assert _squash(meta["byline"]) in _squash(raw_text)


def test_curated_body_matches_raw_seed(raw_text):
    meta, body = _read_curated()

    # curated side: drop Markdown heading markers, then all whitespace
    curated = _squash(re.sub(r"(?m)^## ", "", body))

    # raw side: drop headline, masthead and byline lines ...
    drop = {_squash(meta["title"]), _squash(meta["column"]), _squash(meta["source"])}
    author = _squash(meta["author"])
    kept = []
    for line in raw_text.splitlines():
        s = _squash(line)
        if s in drop or (s.endswith(author) and len(s) <= len(author) + 3):  # "记者 <author>"
            continue
        kept.append(s)
    raw = "".join(kept)
    # ... and the caption blocks (a caption may span its text line and its credit line)
    for cap in meta["captions"]:
        c = _squash(cap)
        assert raw.count(c) == 1, f"caption not found exactly once in raw seed: {cap!r}"
        raw = raw.replace(c, "")

    assert curated == raw


def test_golden_strings_occur_in_curated_body():
    _, body = _read_curated()
    items = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    ids = [it["id"] for it in items]
    assert len(ids) == len(set(ids)), "duplicate ids"
    answerable = [it for it in items if it.get("answerable", True)]
    unanswerable = [it for it in items if it.get("answerable", True) is False]
    assert len(items) >= 40 and len(answerable) >= 32 and len(unanswerable) >= 8
    for it in unanswerable:
        assert "unanswerable" in it["tags"], it["id"]
    for it in answerable:
        assert it["answers"] and it["evidence"], it["id"]
        assert any(a in body for a in it["answers"]), f"{it['id']}: no answer string in body"
        missing = [e for e in it["evidence"] if e not in body]
        assert not missing, f"{it['id']}: evidence not in body: {missing}"
