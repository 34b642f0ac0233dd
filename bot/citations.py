"""Citation verification, for every engine: a quote is shown only if it occurs verbatim in its chunk.

Comparison is after NFKC/width/whitespace normalisation (``bot.text``); the
shown quote is the chunk's own text for that span, and ``start``/``end`` are
its offsets in the document.  ``check_answer`` checks free text a model wrote
sentence by sentence; ``verify`` turns checked claims into ``Citation``s.
Markers are ``bot.answer.MARKER``; ``LOOSE_MARKER`` reads the variants models write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from langchain_core.documents import Document

from bot.answer import MARKER, Citation
from bot.claims import unsupported
from bot.quiet import clean_text
from bot.structure import article_name
from bot.text import find_span, normalize, sentence_spans

# [1] in its common variants: 【1】, ［1］, [^1], [资料1], [Source 1], [1, 2], [1、2]
LOOSE_MARKER = re.compile(r"[\[【［]\s*(?:\^|资料|来源|出处|source|ref)?\s*(\d{1,3}(?:\s*[,，、;；]\s*\d{1,3})*)\s*[\]】］]",
                          re.IGNORECASE)
_QUOTE = re.compile(r"「([^」]{2,})」")
_RUN = re.compile(rf"(?:\s*{MARKER.pattern})+")
_CLOSE = re.compile(r"[。．.！!？?；;，,、…」』”’)）]*")
_NUM = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class Claim:
    """A span of answer text with the source number and quote it claims."""

    n: int
    quote: str


def verify(claims: list[Claim], chunks: list[Document]) -> tuple[list[Citation], dict[int, int], int]:
    """Check each claim against the chunk it names.

    Returns the verified citations (renumbered 1.. in order of first use), a map
    from the claim's source number to the shown number, and how many failed.
    """
    citations: list[Citation] = []
    renumber: dict[int, int] = {}
    dropped = 0
    for claim in claims:
        cit = make_citation(claim, chunks, n=len(citations) + 1)
        if cit is None:
            dropped += 1
            continue
        if claim.n in renumber:
            continue
        renumber[claim.n] = cit.n
        citations.append(cit)
    return citations, renumber, dropped


def make_citation(claim: Claim, chunks: list[Document], *, n: int) -> Citation | None:
    """A ``Citation`` if source ``claim.n`` exists and contains the quote."""
    if not 1 <= claim.n <= len(chunks):
        return None
    chunk = chunks[claim.n - 1]
    span = find_span(claim.quote, chunk.page_content)
    if span is None:
        return None
    meta = chunk.metadata
    base = int(meta.get("start", 0))
    return Citation(
        n=n,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("title") or meta.get("doc_id", "")),
        chunk_id=str(meta.get("chunk_id", chunk.id or "")),
        quote=chunk.page_content[span[0] : span[1]],
        text=chunk.page_content,
        start=base + span[0],
        end=base + span[1],
        score=float(meta.get("score") or 0.0),
        source=str(meta.get("source", "")),
        published=str(meta.get("published", "")),
        path=str(meta.get("article_path", "")),
        article=article_name(meta),
    )


def renumber_markers(text: str, renumber: dict[int, int]) -> str:
    """Rewrite ``[n]`` markers to the shown numbers; drop markers that failed."""

    def sub(match: re.Match[str]) -> str:
        new = renumber.get(int(match.group(1)))
        return f"[{new}]" if new else ""

    return MARKER.sub(sub, text)


# ---- checking an answer written by a model ------------------------------------------------------


@dataclass
class Checked:
    """The model's answer after verification.

    ``text`` holds only sentences whose citations verified, with markers for
    those citations only (still numbered by source; ``bot.citations`` renumbers
    them); ``claims`` are the verified claims in order; ``dropped`` counts the
    citations removed.
    """

    text: str = ""
    claims: list[Claim] = field(default_factory=list)
    dropped: int = 0
    refused: bool = False


def check_answer(raw: str, chunks: list[Document]) -> Checked:
    """Keep the sentences the cited sources support; drop (and count) every citation that fails.

    A citation counts only if source ``n`` exists and contains the sentence's
    「quote」 (or, for a sentence without a quote, a sentence sharing at least
    half its character pairs); a sentence is shown only if its quotes and
    numbers occur in the sources it cites.
    """
    text = clean_text(normalize_markers(raw)).strip()  # a NUL from the model is not shown either
    result = Checked()
    for body, numbers, tail in _units(text):
        if not numbers:
            continue  # trailing sentences that cite nothing are not shown
        kept, claims, failed = _check_unit(body, numbers, chunks)
        result.dropped += failed
        if claims:
            markers = "".join(f"[{n}]" for n in dict.fromkeys(c.n for c in claims))
            result.text += kept + markers + tail
            result.claims.extend(claims)
    result.text = result.text.strip()
    return result


def normalize_markers(text: str) -> str:
    """Rewrite citation markers the model may use (【1】, [1, 2], [^1], [资料1]) as ``[1]``, ``[1][2]``."""
    return LOOSE_MARKER.sub(lambda m: "".join(f"[{int(n)}]" for n in re.findall(r"\d+", m.group(1))), text)


def _units(text: str) -> list[tuple[str, list[int], str]]:
    """``(text before a marker run, its source numbers, closing punctuation after it)``; text after the last run has no numbers."""
    units = []
    pos = 0
    for run in _RUN.finditer(text):
        tail = _CLOSE.match(text, run.end())
        end = tail.end() if tail else run.end()
        units.append((text[pos : run.start()], [int(n) for n in re.findall(r"\d+", run.group())], text[run.end() : end]))
        pos = end
    if text[pos:].strip():
        units.append((text[pos:], [], ""))
    return units


def _check_unit(body: str, numbers: list[int], chunks: list[Document]) -> tuple[str, list[Claim], int]:
    """The shown text of one cited stretch, its verified claims and how many citations failed.

    The sentence right before the markers is the cited one; earlier sentences
    in the stretch are kept only if the same sources support them.
    """
    sentences = _sentences(body)
    if not sentences:
        return "", [], len(set(numbers))
    cited = sentences[-1]
    claims, failed = _claims(cited, numbers, chunks)
    sources = [chunks[c.n - 1] for c in claims]
    if not claims or not _supported(cited, sources):
        return "", [], failed + len(claims)
    before = [s for s in sentences[:-1] if _supported(s, sources, need_match=True)]
    return "".join(before) + cited, claims, failed


def _sentences(body: str) -> list[str]:
    """Sentences of ``body``, each with the whitespace before it, so joining them keeps the spacing."""
    out, prev = [], 0
    for _s, e in sentence_spans(body):
        out.append(body[prev:e])
        prev = e
    return [s for s in out if s.strip()]


def _claims(sentence: str, numbers: list[int], chunks: list[Document]) -> tuple[list[Claim], int]:
    """One claim per distinct source number: a quote of the sentence found in it, or its best-matching sentence."""
    quotes = _QUOTE.findall(sentence)
    claims: list[Claim] = []
    failed = 0
    for n in dict.fromkeys(numbers):
        chunk = chunks[n - 1] if 1 <= n <= len(chunks) else None
        quote = None
        if chunk is not None:
            quote = next((q for q in quotes if quote_in(q, chunk)), None) if quotes else _best_sentence(sentence, chunk)
        if quote is None:
            failed += 1
        else:
            claims.append(Claim(n=n, quote=quote))
    return claims, failed


def _supported(sentence: str, sources: list[Document], *, need_match: bool = False) -> bool:
    """Every 「quote」 and every number of ``sentence`` occurs in ``sources``, and so does every claim outside the quotes.

    With ``need_match`` a sentence without quotes must also share at least
    half its character pairs with one source sentence.
    """
    quotes = _QUOTE.findall(sentence)
    if any(not any(quote_in(q, c) for c in sources) for q in quotes):
        return False
    source_text = normalize(" ".join(c.page_content for c in sources))
    for num in _NUM.findall(normalize(_QUOTE.sub("", sentence))):
        if not re.search(rf"(?<![\d.]){re.escape(num)}(?!\d|\.\d)", source_text):
            return False
    if unsupported(_RUN.sub(" ", _QUOTE.sub(" ", sentence)), "\n".join(c.page_content for c in sources)):
        return False  # a figure, negation, duty or link beside the quote that the sources do not state
    if quotes or not need_match:
        return True
    return any(_best_sentence(sentence, c) is not None for c in sources)


def _best_sentence(claim: str, chunk: Document) -> str | None:
    """The chunk sentence sharing most character pairs with the claim, or None if it shares under half."""
    want = _grams(claim)
    if not want:
        return None
    best, best_share = None, 0.0
    text = chunk.page_content
    for s, e in sentence_spans(text):
        share = len(want & _grams(text[s:e])) / len(want)
        if share > best_share:
            best, best_share = text[s:e], share
    return best if best_share >= 0.5 else None


def _grams(text: str) -> set[str]:
    norm = normalize(_RUN.sub("", _QUOTE.sub("", text)))
    return {norm[i : i + 2] for i in range(len(norm) - 1)}


def quote_in(quote: str, chunk: Document) -> bool:
    """``quote`` occurs verbatim (after normalisation) in the chunk."""
    return find_span(quote, chunk.page_content) is not None
