"""Search terms for Chinese (and everything else) at any length: single characters and overlapping pairs.

Chinese has no spaces between words and most names and many words have two characters (王芳, 理赔, 退保), which a
trigram index cannot hold. Like the CJK analyzers of Lucene (CJKAnalyzer) and Elasticsearch (cjk_bigram), the text is
cut into overlapping character pairs ("理赔材料" -> 理赔 赔材 材料); a one-character term is looked up among the single
characters, a longer one as the phrase of its pairs, so every query length is answered by the index and a phrase of
pairs matches exactly the substrings. Digits and Latin letters go the same way, which serves the tail of a phone
number or a piece of a case number.

Text is normalised (NFKC: full-width digits and letters become ASCII; case folded) and split into runs of letters and
digits; punctuation and spaces end a run, and a pair never spans two runs (a marker token sits between runs so a
phrase cannot bridge them). The tokens are written separated by spaces for SQLite's `ascii` tokenizer, which splits
on ASCII spaces and punctuation only, so a token is exactly what is made here.

What is indexed is only what a person sees of a case (number, name, phone, facts, request, respondent, report, ID
number), never stored JSON: a short term cannot match a key or a status code.

A caller's name is also indexed by its sound (issue 15, `sound_runs`): its full pinyin, the same folded as an IME's
near-homophones fold (zh/z, ch/c, sh/s, -ng/-n), and its initials, so "wangfang", "wanfan", "wf" and the homophone
王方 typed for 王芳 find the caller. `term_query` looks a term up as typed and, for pinyin letters or Chinese
characters, by its folded sound as well.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from agent_console.core.typeahead import fuzzy_typed, keys

RUN_BREAK = "\ue000"  # a private-use character: never part of a run (not alphanumeric), so never a real token


def normalise(text: str) -> str:
    if not unicodedata.is_normalized("NFKC", text):  # a quick check: most text needs nothing
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def runs(text: str) -> list[str]:
    """The runs of letters and digits of `text`, normalised."""
    return _RUN.findall(normalise(text)) if text else []


_RUN = re.compile(r"[^\W_]+")  # letters and digits (str.isalnum's classes), underscore excluded


def text_runs(texts: Iterable[str]) -> list[str]:
    """The runs of several texts, in order."""
    return [run for text in texts if text for run in runs(text)]


def unigrams_of(found: list[str]) -> str:
    """Every distinct character of the runs (a one-character term needs only to be there)."""
    return " ".join(dict.fromkeys("".join(found)))


def bigrams_of(found: list[str]) -> str:
    """The overlapping pairs of each run, in order, runs kept apart by RUN_BREAK (phrases match substrings)."""
    parts: list[str] = []
    for run in found:
        if len(run) < 2:
            continue
        if parts:
            parts.append(RUN_BREAK)
        parts.extend(run[i:i + 2] for i in range(len(run) - 1))
    return " ".join(parts)


def terms_of(texts: Iterable[str]) -> tuple[str, str]:
    """(unigrams(texts), bigrams(texts)), each text's terms worked out once and remembered: a hotline's texts repeat
    (a respondent, a stock phrase, demo stories), and a rebuild works out every case's terms again."""
    parts = [_text_terms(text) for text in texts if text]
    singles = " ".join(dict.fromkeys("".join(p[0] for p in parts)))
    return singles, f" {RUN_BREAK} ".join(p[1] for p in parts if p[1])


@lru_cache(maxsize=8192)
def _text_terms(text: str) -> tuple[str, str]:
    found = runs(text)
    return "".join(dict.fromkeys("".join(found))), bigrams_of(found)


def unigrams(texts: Iterable[str]) -> str:
    return unigrams_of(text_runs(texts))


def bigrams(texts: Iterable[str]) -> str:
    return bigrams_of(text_runs(texts))


def scope_token(kind: str, value: str) -> str:
    """A token naming an owner ("o") or team ("t") for the index's scope column: letters and digits only, whatever
    the name is made of, so the ascii tokenizer keeps it whole."""
    return kind + hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


@lru_cache(maxsize=None)  # bounded by the characters there are
def _char_sound(ch: str) -> tuple[str, str]:
    full, initials = keys(ch)
    return "".join(runs(full)), "".join(runs(initials))


def _sound(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of `text`, character by character (a name's characters read as they read alone:
    the same for the index and the query, and a million names cost a dictionary look-up per character)."""
    parts = [_char_sound(ch) for ch in text]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)


@lru_cache(maxsize=65536)
def sound_runs(name: str) -> tuple[str, ...]:
    """Runs that index a Chinese name by its sound: full pinyin, the same folded (fuzzy_typed), and initials.
    Nothing for a name without Chinese characters (a Latin name is found by its letters already)."""
    if not name or not _has_han(name):
        return ()
    full, initials = _sound(normalise(name))
    out = [full, fuzzy_typed(full), initials]
    return tuple(r for r in dict.fromkeys(out) if len(r) >= 2)


def _sound_of_term(term: str) -> str | None:
    """What a typed term sounds like, folded, when it may be a name's sound: pinyin letters (2 or more) or Chinese
    characters (2 or more: one character's sound alone finds too much). None otherwise."""
    plain = normalise(term)
    if plain.isascii():
        return fuzzy_typed(plain) if len(plain) >= 2 and plain.isalpha() else None
    if _has_han(plain) and len(plain) >= 2 and all(_has_han(ch) for ch in plain):
        return fuzzy_typed(_sound(plain)[0])
    return None


def term_query(term: str, single: str, pairs: str) -> str | None:
    """The FTS5 expression finding `term` as a substring: its runs, each a character in the `single` columns or a
    phrase of pairs in the `pairs` columns (column filters like "{who1 body1}"), all of them; a term that may be a
    name's sound also matches the names' sound runs (see `sound_runs`). None: nothing to find (only punctuation)."""
    expr = _substring_query(term, single, pairs)
    sound = _sound_of_term(term) if expr is not None else None
    if sound and sound != normalise(term):
        return f"({expr}) OR ({_substring_query(sound, single, pairs)})"
    return expr


def _substring_query(term: str, single: str, pairs: str) -> str | None:
    found = runs(term)
    if not found:
        return None
    parts = []
    for run in found:
        if len(run) == 1:
            parts.append(f'{single} : "{run}"')
        else:
            parts.append(f'{pairs} : "' + " ".join(run[i:i + 2] for i in range(len(run) - 1)) + '"')
    return " AND ".join(parts)
