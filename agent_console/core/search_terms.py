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


# -- case text by its sound (issue 15) ----------------------------------------------------------------------------
# An agent types pinyin and the IME offers characters; the one picked may be a homophone (理陪 for 理赔) or a
# near-homophone (zh/z, ch/c, sh/s, n/l, an/ang, en/eng, in/ing). The facts, request and other texts of a case are
# indexed by sound as well: every pair of adjacent Chinese characters becomes one token of their two folded
# syllables ("理赔材料" -> li0pei pei0cai cai0liao), written by str.translate with a table made once from pypinyin's
# character data (a character -> "0syl syl", so the translated run reads "0li li0pei pei0cai cai0liao liao" and the
# pairs are what a regular expression picks out: C speed, no pypinyin call per character). A character with a
# second reading (行 xing/hang, 还 hai/huan, 长 zhang/chang) gives its pairs under that reading too, from a second
# table. Two neighbours read with different tables (行长 háng zhǎng: 行's second reading, 长's first; neither table
# gives han0zan) come from pypinyin's phrase dictionary, read once into the pairs it reads otherwise (about a
# thousand: 行长 -> han0zan); a text adds them where its characters hold one. A query's pairs must all be there (AND,
# not a phrase: the second reading's tokens sit after the first's).

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
# the texts are not normalised first (NFKC of a text with full-width punctuation costs more than all the rest): the
# compatibility ideographs NFKC would change are read as the characters they stand for instead
_HAN_RUN = re.compile(f"[{_HAN}\uf900-\ufaff]{{2,}}")
_PAIR = re.compile(r"[a-z]+0[a-z]+")
_TONES = str.maketrans({**{c: "a" for c in "āáǎà"}, **{c: "e" for c in "ēéěèê"}, **{c: "i" for c in "īíǐì"},
                        **{c: "o" for c in "ōóǒò"}, **{c: "u" for c in "ūúǔù"}, **{c: "v" for c in "üǖǘǚǜ"},
                        **{c: "n" for c in "ńňǹ"}, "ḿ": "m", "\u0304": None, "\u030c": None})


def fold_syllable(syllable: str) -> str:
    """A toneless syllable with the IME's near-homophones folded: zh/z ch/c sh/s n/l at the start, -ang/-an
    -eng/-en -ing/-in at the end ("zhang" -> "zan", "ning" -> "lin")."""
    s = syllable
    for long, short in (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l")):
        if s.startswith(long):
            s = short + s[len(long):]
            break
    for long, short in (("ang", "an"), ("eng", "en"), ("ing", "in")):
        if s.endswith(long) and len(s) > len(long):
            return s[: -len(long)] + short
    return s


class _Sounds:
    """The tables, made once from pypinyin's data (about 28,000 characters): the first and second folded reading of
    each Chinese character, as translate tables, and the toneless syllables (to read typed pinyin)."""

    def __init__(self) -> None:
        from pypinyin.pinyin_dict import pinyin_dict

        self.first: dict[int, str] = {}
        self.second: dict[int, str] = {}
        self.readings: dict[str, tuple[str, ...]] = {}
        syllables: set[str] = set()
        for code, text in pinyin_dict.items():
            if not (0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF):
                continue
            plain = [r.strip().translate(_TONES) for r in text.split(",")]
            plain = [r for r in plain if r.isascii() and r.isalpha()]
            syllables.update(plain)
            folded = tuple(dict.fromkeys(fold_syllable(r) for r in plain))[:2]
            if not folded:
                continue
            self.first[code] = f"0{folded[0]} {folded[0]}"
            self.second[code] = f"0{folded[-1]} {folded[-1]}"
            self.readings[chr(code)] = folded
        for code in range(0xF900, 0xFB00):  # compatibility ideographs: as their NFKC characters read
            same = unicodedata.normalize("NFKC", chr(code))
            if len(same) == 1 and ord(same) in self.first:
                self.first[code], self.second[code] = self.first[ord(same)], self.second[ord(same)]
        self.syllables = frozenset(syllables)
        self.prefixes = frozenset(s[:i] for s in syllables for i in range(1, len(s)))
        self.mixed = self._mixed_pairs()
        # the characters that start one of them: the only places a text is looked at for one
        self.mixed_lead = re.compile("[" + "".join(sorted({pair[0] for pair in self.mixed})) + "](?=[" + _HAN + "])")

    def _mixed_pairs(self) -> dict[str, tuple[str, ...]]:
        """Adjacent characters that pypinyin's phrase dictionary reads as neither table does ("行长": han0zan)."""
        from pypinyin.phrases_dict import phrases_dict

        mixed: dict[str, dict[str, None]] = {}
        for phrase, readings in phrases_dict.items():
            if len(phrase) != len(readings):
                continue
            for i in range(len(phrase) - 1):
                a, b = ord(phrase[i]), ord(phrase[i + 1])
                if a not in self.first or b not in self.first:
                    continue
                token = "0".join(fold_syllable(r[0].translate(_TONES)) for r in readings[i:i + 2])
                tabled = {f"{t[a].split(' ')[1]}0{t[b].split(' ')[1]}" for t in (self.first, self.second)}
                if token not in tabled:
                    mixed.setdefault(phrase[i:i + 2], {})[token] = None
        return {pair: tuple(tokens) for pair, tokens in mixed.items()}


@lru_cache(maxsize=1)
def _sounds() -> _Sounds:
    return _Sounds()


@lru_cache(maxsize=8192)
def _text_sound(text: str) -> tuple[str, ...]:
    han = " ".join(_HAN_RUN.findall(text))
    if not han:
        return ()
    tables = _sounds()
    pairs = _PAIR.findall(han.translate(tables.first))
    pairs += _PAIR.findall(han.translate(tables.second))
    for found in tables.mixed_lead.finditer(han):  # 行长: read as a phrase, not by either table alone
        pairs += tables.mixed.get(han[found.start():found.start() + 2], ())
    return tuple(dict.fromkeys(pairs))


def sound_terms(texts: Iterable[str]) -> str:
    """The sound column of a case: the distinct folded-syllable pairs of its texts' Chinese (see above)."""
    found: dict[str, None] = {}
    for text in texts:
        if text:
            found.update(dict.fromkeys(_text_sound(text)))
    return " ".join(found)


def _read_pinyin(letters: str, last: bool) -> list[str] | None:
    """Typed pinyin cut into syllables, longest first (backtracking when the rest does not read); the end may be
    a syllable still being typed (`last`: the letters end the term), kept with a trailing "*". None: not pinyin."""
    tables = _sounds()

    def cut(i: int) -> list[str] | None:
        if i == len(letters):
            return []
        for j in range(min(len(letters), i + 6), i, -1):
            if letters[i:j] in tables.syllables:
                rest = cut(j)
                if rest is not None:
                    return [letters[i:j], *rest]
        if last and letters[i:] in tables.prefixes:
            return [letters[i:] + "*"]
        return None

    return cut(0)


def _term_syllables(term: str) -> list[tuple[str, ...]] | None:
    """The folded readings of each syllable of a term typed in characters, pinyin or both ("li赔"); a syllable still
    being typed ends in "*". None when the term holds anything else (digits, other letters)."""
    plain = normalise(term)
    tables = _sounds()
    out: list[tuple[str, ...]] = []
    for found in _PIECE.finditer(plain):
        piece = found.group()
        if piece in tables.readings:
            out.append(tables.readings[piece])
        elif piece.isascii() and piece.isalpha():
            read = _read_pinyin(piece, last=found.end() == len(plain))
            if read is None:
                return None
            out.extend((fold_syllable(s.rstrip("*")) + ("*" if s.endswith("*") else ""),) for s in read)
        else:
            return None
    return out


_PIECE = re.compile(f"[{_HAN}]|[a-z]+|.")


def sound_query(term: str, column: str = "sound") -> str | None:
    """The FTS5 expression finding a term by its sound in the sound column: every pair of adjacent syllables (any
    reading of each), all of them. None when the term is not two syllables or more of Chinese or pinyin."""
    sounds = _term_syllables(term)
    if not sounds or len(sounds) < 2:
        return None
    parts = []
    for left, right in zip(sounds, sounds[1:]):
        options = []
        for a in left:
            for b in right:
                options.append(f'"{a}0{b[:-1]}"*' if b.endswith("*") else f'"{a}0{b}"')
        parts.append("(" + " OR ".join(dict.fromkeys(options)) + ")")
    return f"{column} : (" + " AND ".join(parts) + ")"
