"""Follow-up questions → standalone questions.

The extractive engine has no model to rewrite a follow-up, so it carries the
previous question's subject over: "那国家标准呢?" after
"对主导制订国际标准的企业奖励多少?" becomes "对主导制订国家标准的企业奖励多少?"
(the term sharing a head word is swapped); otherwise the follow-up is
prefixed to the previous question.
"""

from __future__ import annotations

import re

import jieba

import bot.text  # noqa: F401  (quiets jieba's start-up log)

_LEAD = re.compile(r"^\s*(那么|那|还有|另外|如果是|如果|要是|and\s+|what about\s+|how about\s+|and what about\s+)", re.I)
_TAIL = re.compile(r"[呢吗嘛呀啊?？。!！\s]+$")
_FOLLOW = re.compile(r"^\s*(那么|那|还有|另外|如果是|要是|and\b|what about|how about)|呢\s*[?？]?\s*$", re.I)
_QWORD = re.compile(r"多少|几|什么|哪|谁|怎么|如何|是否|吗|how|what|which|who|when|where|why", re.I)

History = list[tuple[str, str]]  # (role, text) with role "user" | "assistant"


def is_followup(question: str) -> bool:
    """A question that leans on the previous one ("那…呢?", "what about …")."""
    q = question.strip()
    if _FOLLOW.search(q):
        return True
    return len(q) <= 6 and not _QWORD.search(q)


def previous_question(history: History) -> str | None:
    """The last user turn in ``history``."""
    for role, text in reversed(history or []):
        if role == "user" and text.strip():
            return text.strip()
    return None


def carry_over(question: str, history: History) -> str:
    """Standalone form of ``question`` given the previous user question."""
    prev = previous_question(history)
    if not prev or not is_followup(question):
        return question.strip()
    core = _TAIL.sub("", _LEAD.sub("", question.strip())).strip()
    if not core:
        return prev
    words = [w for w in jieba.lcut(prev) if w.strip()]
    best, best_len = None, 0
    for w in words:
        shared = _common_suffix(w, core)
        if shared > best_len and shared < len(w) + 1 and len(w) >= 2:
            best, best_len = w, shared
    if best and best_len >= 1 and best != core:
        return prev.replace(best, core, 1)
    return f"{core} {prev}"


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n
