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
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

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


def term_query(term: str, single: str, pairs: str) -> str | None:
    """The FTS5 expression finding `term` as a substring: its runs, each a character in the `single` columns or a
    phrase of pairs in the `pairs` columns (column filters like "{who1 body1}"), all of them. None: nothing to find
    (only punctuation)."""
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
