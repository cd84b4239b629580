"""Loading and searching the phrasebook.

Files: `*.toml` in each phrasebook folder. `[[entry]]` tables are replies, `[[block]]` tables are shared sentences
included by `{{include:block_id}}`, `[[forbidden]]` tables are phrasings never to use with what to say instead.
A broken file never stops the console: its problems are reported (file:line) and the rest loads. Edits are picked
up without a restart (file modification times are checked before each search).
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import os
from array import array
from collections import Counter
from itertools import compress, repeat
from operator import add, ge, neg
import pickle
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from rapidfuzz import fuzz, process

from agent_console.core.errors import Said, toml_error_line
from agent_console.core.typeahead import fuzzy_key, fuzzy_typed, keys
from agent_console.phrases.fill import KNOWN_PLACEHOLDERS, placeholders_of

INCLUDE = re.compile(r"\{\{include:([\w.\-]+)\}\}")
REQUIRED = ("id", "situation", "title", "text")
STAGES = ("opening", "intake", "case", "callback", "closing", "any")
_CACHE_VERSION = 5  # 3: the near-homophone index (fuzzy); 4: the text's initials, per-entry parts; 5: problems by key


@dataclass
class Entry:
    id: str
    situation: str
    title: str
    text: str  # includes resolved
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    text_en: str = ""
    placeholders: list[str] = field(default_factory=list)  # ones the console must ask for
    stage: str = "any"
    source: str = ""  # file:line


@dataclass
class Forbidden:
    phrase: str
    say_instead: str
    why: str = ""
    source: str = ""


@dataclass
class _Index:
    """Derived search data, cached on disk by content hash so start-up stays fast.

    Each field is one string for all entries, entries separated by newlines, so a keystroke is a few C-speed
    `str.find` scans instead of a Python loop over every entry.
    """

    hay: str  # lower-case title | tags | text
    initials: str  # pinyin initials of title and tags, run together
    full: str  # full pinyin of title and tags, run together
    titles: list[str]  # lower-case titles (for prefix scoring and typo matching)
    title_pinyin: list[str]  # full pinyin of each title (typo matching)
    hay_starts: list[int]
    initials_starts: list[int]
    full_starts: list[int]
    fuzzy: str = ""  # the sound of title and tags with near-homophones folded (core.typeahead.fuzzy_key)
    fuzzy_starts: list[int] = field(default_factory=list)
    text_initials: str = ""  # the initials of each Chinese character of the text ("_" for anything else)
    text_initials_starts: list[int] = field(default_factory=list)
    # per entry, the same as `initials` and `full`: a one-letter query hits nearly every entry, and one test per
    # entry beats a find and a bisection per hit
    initials_parts: list[str] = field(default_factory=list)
    full_parts: list[str] = field(default_factory=list)


def _joined(parts: list[str]) -> tuple[str, list[int]]:
    starts, pos = [], 0
    for part in parts:
        starts.append(pos)
        pos += len(part) + 1
    return "\n".join(parts), starts


def _hits(big: str, starts: list[int], q: str, parts: list[str] | None = None) -> list[int]:
    """Indexes of the entries whose part of `big` contains q (each entry once). One character is found in most
    entries: then each entry's part (`parts`) is tested instead."""
    if parts and len(q) == 1:
        return [i for i, part in enumerate(parts) if q in part]
    found: list[int] = []
    pos = big.find(q)
    n = len(starts)
    while pos != -1:
        i = bisect.bisect_right(starts, pos) - 1
        found.append(i)
        if i + 1 >= n:
            break
        pos = big.find(q, starts[i + 1])
    return found


def _pattern_hits(big: str, starts: list[int], pattern: re.Pattern[str]) -> list[int]:
    """Indexes of the entries whose part of `big` (one line each) `pattern` matches in (each entry once)."""
    found: list[int] = []
    n = len(starts)
    match = pattern.search(big)
    while match is not None:
        i = bisect.bisect_right(starts, match.start()) - 1
        found.append(i)
        if i + 1 >= n:
            break
        match = pattern.search(big, starts[i + 1])
    return found


def _in_order(letters: str, gap: int | None) -> re.Pattern[str]:
    """The typed letters in order within one line, with at most `gap` characters between two (None: any)."""
    if gap is None:  # each letter then the shortest run up to the next: no backtracking
        return re.compile("".join(f"{re.escape(c)}[^\n{re.escape(n)}]*" for c, n in zip(letters, letters[1:]))
                          + re.escape(letters[-1]))
    return re.compile(f"[^\n]{{0,{gap}}}?".join(map(re.escape, letters)))


_TEXT_GAP = 3  # in an entry's text, typed initials may skip up to 3 characters between two (words not adjacent)


def _char_initial(ch: str) -> str:
    return _INITIAL.get(ch) or _INITIAL.setdefault(ch, keys(ch)[1][:1] if "\u3400" <= ch <= "\u9fff" else "_")


_INITIAL: dict[str, str] = {}


def _text_initials(text: str) -> str:
    return "".join(map(_char_initial, text))


_HIT = 1000.0  # added to the score of a matching entry in a per-character table: above any boost of a non-match


def _best(ids: Sequence[int], values: list[float], limit: int, floor: float | None = None) -> list[int]:
    """The `limit` ids with the highest values (the earlier id first on a tie), values parallel to ids; values
    below `floor` never count. Scores and boosts take few distinct values, so counting them gives the lowest value
    the best can have, and only the ids at or above it are ranked."""
    if floor is not None or len(values) > 4 * limit:
        counts = Counter(values)
        threshold = floor if floor is not None else min(counts, default=0.0)
        taken = 0
        for value in sorted(counts, reverse=True):
            if floor is not None and value < floor:
                break
            threshold = value
            taken += counts[value]
            if taken >= limit:
                break
        keep = list(compress(range(len(values)), map(ge, values, repeat(threshold))))
        ids, values = [ids[j] for j in keep], [values[j] for j in keep]
    # (value, -id) pairs compare without a key function; -id keeps the earlier entry first on a tie
    return [-i for _, i in heapq.nlargest(limit, zip(values, map(neg, ids)))]


def _table_lines(text: str, table: str) -> list[int]:
    """Lines that open `[table]` or set `table = ...` at the top level."""
    return [i for i, line in enumerate(text.splitlines(), start=1)
            if line.strip() == f"[{table}]" or line.split("=")[0].strip() == table]


def _header_lines(text: str, table: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), start=1) if line.strip() == f"[[{table}]]"]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agent-console"


class Phrasebook:
    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = [Path(d) for d in dirs]
        self.entries: list[Entry] = []
        self.forbidden: list[Forbidden] = []
        self.problems: list[Any] = []  # Said per problem (str() is the English)
        self._mtimes: dict[Path, float] = {}
        self._index: _Index | None = None
        self._boost_cache: dict[Any, list[float]] = {}
        self._single: dict[str, array] = {}  # one typed character -> every entry's score for it (see _one_char)
        self.load()

    # -- loading ----------------------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        out: list[Path] = []
        for d in self.dirs:
            if d.is_dir():
                out.extend(sorted(d.glob("*.toml")))
        return out

    def changed(self) -> bool:
        files = self.files()
        if set(files) != set(self._mtimes):
            return True
        return any(self._mtimes.get(f) != f.stat().st_mtime for f in files)

    def reload_if_changed(self) -> bool:
        if self.changed():
            self.load()
            return True
        return False

    def load(self) -> None:
        self._boost_cache = {}
        self._single = {}
        files = self.files()
        stats = [(str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files]
        key = hashlib.sha256(repr(stats).encode()).hexdigest()[:24]
        cache = _cache_dir() / f"phrasebook-{key}.pickle"
        self._mtimes = {f: f.stat().st_mtime for f in files}
        if cache.is_file():
            try:
                with cache.open("rb") as fh:
                    loaded = pickle.load(fh)
                if isinstance(loaded, tuple) and len(loaded) == 5 and loaded[0] == _CACHE_VERSION:
                    _, self.entries, self.forbidden, self.problems, self._index = loaded
                    self._by_id = {e.id: e for e in self.entries}
                    return
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
                pass
        self._parse()
        self._by_id = {e.id: e for e in self.entries}
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump((_CACHE_VERSION, self.entries, self.forbidden, self.problems, self._index), fh)
            tmp.replace(cache)
        except OSError:
            pass  # a read-only home only costs the next start its parsing

    def _parse(self) -> None:
        entries: list[Entry] = []
        blocks: dict[str, tuple[str, str]] = {}
        forbidden: list[Forbidden] = []
        problems: list[Any] = []  # Said: file:line and what is wrong, told in the console's language
        raw_entries: list[tuple[dict[str, Any], str]] = []
        for path in self.files():
            text = path.read_text(encoding="utf-8")
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                problems.append(Said("phrase.syntax", where=f"{path}:{toml_error_line(exc)}", detail=str(exc)))
                continue
            for table in ("entry", "block", "forbidden"):
                lines = _header_lines(text, table)
                for i, item in enumerate(data.get(table, [])):
                    where = f"{path}:{lines[i] if i < len(lines) else 1}"
                    if table == "block":
                        if not item.get("id") or not item.get("text"):
                            problems.append(Said("phrase.block_needs", where=where))
                        elif item["id"] in blocks:
                            problems.append(Said("phrase.block_used", where=where, id=item["id"], first=blocks[item["id"]][1]))
                        else:
                            blocks[item["id"]] = (str(item["text"]), where)
                    elif table == "forbidden":
                        if not item.get("phrase") or not item.get("say_instead"):
                            problems.append(Said("phrase.forbidden_needs", where=where))
                        else:
                            forbidden.append(Forbidden(str(item["phrase"]), str(item["say_instead"]),
                                                       str(item.get("why", "")), where))
                    else:
                        raw_entries.append((item, where))
            unknown = set(data) - {"entry", "block", "forbidden"}
            if unknown:
                first = min((n for t in unknown for n in _header_lines(text, t) + _table_lines(text, t)), default=1)
                problems.append(Said("phrase.unknown_tables", where=f"{path}:{first}", tables=", ".join(sorted(unknown))))
        seen: dict[str, str] = {}
        for item, where in raw_entries:
            missing = [k for k in REQUIRED if not str(item.get(k, "")).strip()]
            if missing:
                problems.append(Said("phrase.lacks", where=where, id=item.get("id", "?"), missing=", ".join(missing)))
                continue
            if item["id"] in seen:
                problems.append(Said("phrase.duplicate", where=where, id=item["id"], first=seen[item["id"]]))
                continue
            try:
                body = _resolve(str(item["text"]), blocks, [])
            except ValueError as exc:
                problems.append(Said("phrase.include", where=where, id=item["id"], detail=str(exc)))
                continue
            declared = [str(p) for p in item.get("placeholders", [])]
            unknown_ph = [p for p in placeholders_of(body) if p not in KNOWN_PLACEHOLDERS and p not in declared]
            if unknown_ph:
                problems.append(Said("phrase.placeholder", where=where, id=item["id"], name=unknown_ph[0],
                                     known=", ".join(KNOWN_PLACEHOLDERS)))
                continue
            stage = str(item.get("stage", "any"))
            if stage not in STAGES:
                problems.append(Said("phrase.stage", where=where, id=item["id"], stage=stage, known=", ".join(STAGES)))
                stage = "any"
            seen[item["id"]] = where
            entries.append(Entry(
                id=str(item["id"]), situation=str(item["situation"]), title=str(item["title"]), text=body,
                categories=[str(c) for c in item.get("categories", [])], tags=[str(t) for t in item.get("tags", [])],
                text_en=_resolve(str(item.get("text_en", "")), blocks, []) if item.get("text_en") else "",
                placeholders=declared, stage=stage, source=where,
            ))
        self.entries, self.forbidden, self.problems = entries, forbidden, problems
        self._index = self._build_index()

    def _build_index(self) -> _Index:
        hay, titles, initials, full, title_pinyin, fuzzy, text_initials = [], [], [], [], [], [], []
        for e in self.entries:
            words = [e.title, *e.tags]
            hay.append(" | ".join([e.title, *e.tags, e.text]).lower().replace("\n", " "))
            titles.append(e.title.lower())
            pinyin = [keys(w) for w in words]
            full.append("".join(p[0] for p in pinyin))
            initials.append("".join(p[1] for p in pinyin))
            title_pinyin.append(pinyin[0][0])
            fuzzy.append(fuzzy_key(" ".join([e.title, *e.tags])))  # not the text: a keystroke scans this whole
            text_initials.append(_text_initials(e.text.replace("\n", " ")))
        hay_s, hay_starts = _joined(hay)
        ini_s, ini_starts = _joined(initials)
        full_s, full_starts = _joined(full)
        fuzzy_s, fuzzy_starts = _joined(fuzzy)
        text_s, text_starts = _joined(text_initials)
        return _Index(hay_s, ini_s, full_s, titles, title_pinyin, hay_starts, ini_starts, full_starts, fuzzy_s,
                      fuzzy_starts, text_s, text_starts, initials, full)

    # -- searching --------------------------------------------------------------------------------------------
    def search(self, query: str, category: str | None = None, stage: str | None = None,
               usage: dict[str, int] | None = None, limit: int = 20) -> list[Entry]:
        """Best entries for what the agent typed; the case's category and the call's stage rank entries first."""
        self.reload_if_changed()
        q = query.strip().lower()
        entries = self.entries
        boost = self._boosts(category, stage, usage)
        if len(q) == 1:
            # one character: nearly every entry matches; its scores are kept per character, and the best are
            # picked by C-level passes over them (the path a first keystroke takes, p95 of the bench)
            base = self._single.get(q)
            if base is None:
                if len(self._single) >= 64:  # each table is 8 bytes an entry: keep the characters typed lately
                    self._single.clear()
                base = self._single[q] = self._one_char(q)
            return [entries[i] for i in _best(range(len(entries)), list(map(add, base, boost)), limit, _HIT)]
        scores = self._scores(q, limit)
        return [entries[i] for i in _best(list(scores), list(map(add, scores.values(), map(boost.__getitem__, scores))),
                                          limit)]

    def _one_char(self, q: str) -> array:
        """Every entry's score for the one character `q`, plus _HIT when it matches at all (0: it does not)."""
        scores = self._scores(q, 10**9)
        missing = map(scores.get, range(len(self.entries)), repeat(-_HIT))  # C-level passes, no Python loop
        return array("d", map(add, missing, repeat(_HIT)))

    def _scores(self, q: str, limit: int) -> dict[int, float]:
        """Entry index -> how well it matches `q` (lower-cased, stripped); entries that do not match are absent."""
        index = self._index
        assert index is not None
        entries = self.entries
        scores: dict[int, float] = {}
        if not q:
            scores = dict.fromkeys(range(len(entries)), 1.0)
        else:
            compact = q.replace(" ", "")
            titles = index.titles
            hay_hits = _hits(index.hay, index.hay_starts, q)  # long parts: one scan of the whole is quicker
            scores = dict.fromkeys(hay_hits, 50)
            in_title = [i for i in hay_hits if q in titles[i]]
            scores.update(dict.fromkeys(in_title, 85))
            scores.update(dict.fromkeys([i for i in in_title if titles[i].startswith(q)], 100))
            if compact.isascii() and compact.isalpha():
                get = scores.get
                initials, initials_starts = index.initials, index.initials_starts
                hits = _hits(initials, initials_starts, compact, index.initials_parts)
                scores.update({i: 65 for i in hits if get(i, 0) < 65})
                starts = initials.startswith
                scores.update({i: 75 for i in hits if get(i, 0) < 75 and starts(compact, initials_starts[i])})
                full, full_starts = index.full, index.full_starts
                # the full pinyin cannot raise a hit of 70 or more (one letter hits nearly all)
                hits = [i for i in _hits(full, full_starts, compact, index.full_parts) if get(i, 0) < 70]
                scores.update({i: 60 for i in hits if get(i, 0) < 60})
                starts = full.startswith
                scores.update({i: 70 for i in hits if starts(compact, full_starts[i])})
                if len(compact) >= 3 and len(scores) < limit:
                    # initials of words not adjacent in the title or tags ("lpcx": 理赔进度查询), then in the
                    # text, as they are or skipping a few characters; below every hit of the letters as typed
                    for i in _pattern_hits(initials, initials_starts, _in_order(compact, None)):
                        scores.setdefault(i, 49)
                    text, text_starts = index.text_initials, index.text_initials_starts
                    for i in _hits(text, text_starts, compact):
                        scores.setdefault(i, 47)
                    if len(scores) < limit:
                        for i in _pattern_hits(text, text_starts, _in_order(compact, _TEXT_GAP)):
                            scores.setdefault(i, 45)
            folded = fuzzy_typed(compact) if len(scores) < limit and len(compact) >= 2 else ""
            if len(folded) >= 4:
                # by sound: a homophone the IME picked (理陪 for 理赔), mixed input (li赔), a near-homophone
                # (zh/z, ch/c, sh/s, n/l, an/ang, en/eng, in/ing); always below the exact hits
                for i in _hits(index.fuzzy, index.fuzzy_starts, folded):
                    if scores.get(i, 0) < 55:
                        scores[i] = 55
            if not scores and len(q) >= 2:  # nothing matched as typed: a typo, so match approximately
                choices = index.title_pinyin if compact.isascii() else index.titles
                for _, score, i in process.extract(compact, choices, scorer=fuzz.partial_ratio, limit=limit,
                                                   score_cutoff=75):
                    scores[i] = score * 0.45
        return scores

    def _boosts(self, category: str | None, stage: str | None, usage: dict[str, int] | None) -> list[float]:
        """Per-entry rank boosts for a call's context, computed once per context rather than per keystroke."""
        key = (category, stage, frozenset((usage or {}).items()))
        cached = self._boost_cache.get(key)
        if cached is not None:
            return cached
        out = []
        for e in self.entries:
            b = 0.0
            if category and category in e.categories:
                b += 30
            elif e.categories and category:
                b -= 5
            if stage and e.stage == stage:
                b += 15
            if usage:
                b += min(usage.get(e.id, 0), 10) * 0.5
            out.append(b)
        if len(self._boost_cache) > 32:
            self._boost_cache.clear()
        self._boost_cache[key] = out
        return out

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def situations(self) -> list[str]:
        out: list[str] = []
        for e in self.entries:
            if e.situation not in out:
                out.append(e.situation)
        return out

    def check_text(self, text: str) -> list[Forbidden]:
        """The forbidden phrasings a reply or note contains (ignoring spaces and punctuation differences)."""
        norm = _norm(text)
        return [f for f in self.forbidden if _norm(f.phrase) and _norm(f.phrase) in norm]


def _norm(text: str) -> str:
    return re.sub(r"[\s，。、,.!！?？;；:：“”\"'‘’…]+", "", text).lower()


def _resolve(text: str, blocks: dict[str, tuple[str, str]], trail: list[str]) -> str:
    def put(match: re.Match[str]) -> str:
        block_id = match.group(1)
        if block_id in trail:
            raise ValueError(f"include loop: {' -> '.join([*trail, block_id])}")
        if block_id not in blocks:
            raise ValueError(f"include {block_id!r} does not exist")
        return _resolve(blocks[block_id][0], blocks, [*trail, block_id])

    return INCLUDE.sub(put, text)


_CACHE: dict[tuple[str, ...], Phrasebook] = {}


def load_phrasebook(extra_dirs: list[Path] | None = None) -> Phrasebook:
    """The shipped phrasebook plus a team's folders, loaded once per process (reloaded when files change)."""
    from agent_console.core.shipped import shipped_phrasebook_dir

    dirs = [shipped_phrasebook_dir(), *(extra_dirs or [])]
    key = tuple(str(d) for d in dirs)
    book = _CACHE.get(key)
    if book is None:
        book = _CACHE[key] = Phrasebook(dirs)
    else:
        book.reload_if_changed()
    return book


def validate_all(dirs: list[Path]) -> list[Any]:
    """Every problem in the phrasebook folders (a Said each: "file:line: message" as str(), and in the console's
    language through Translator.error; used by `agent-console check`)."""
    return Phrasebook([Path(d) for d in dirs]).problems
