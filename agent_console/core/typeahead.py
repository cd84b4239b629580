"""Type-ahead over short Chinese labels: match by Chinese substring, full pinyin, or pinyin initials.

`keys("理赔时效")` gives ("lipeishixiao", "lpsx"); `rank(query, items)` orders labels for a query such as "理赔",
"lipei" or "lp". Pinyin is computed once per label and cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def keys(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of a text, lower case, without spaces; non-Chinese characters kept as they are."""
    syllables = [s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars))]
    syllables = [s for s in syllables if s.strip()]
    return "".join(syllables), "".join(s[0] for s in syllables if s)


# an IME's near-homophones: the agent picks the right sound but not quite the right initial or final
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


def _fuzzy_syllable(s: str) -> str:
    for long, short in _FUZZY_INITIALS:
        if s.startswith(long):
            s = short + s[len(long):]
            break
    for long, short in _FUZZY_FINALS:
        if s.endswith(long):
            return s[: -len(long)] + short
    return s


@lru_cache(maxsize=65536)
def fuzzy_key(text: str) -> str:
    """The sound of `text` with the IME's near-homophones folded together (zh/z, ch/c, sh/s, n/l, an/ang,
    en/eng, in/ing): 理赔 and 理陪 and "nipei" all give "lipei". Latin letters typed as pinyin are folded the same
    way only where unambiguous (zh/ch/sh and -ng, not n/l: a typed "n" may be a final)."""
    out = []
    for s in lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars)):
        s = s.lower().strip()
        if not s:
            continue
        out.append(_fuzzy_syllable(s) if s.isascii() and s.isalpha() and len(s) > 1 else s)
    return "".join(out)


def fuzzy_typed(query: str) -> str:
    """What the agent typed, folded as `fuzzy_key` folds the index: characters by their sound (mixed input such as
    "li赔" works), pinyin letters by zh/ch/sh and -ng."""
    if query.isascii():
        q = query.lower()
        for long, short in (("zh", "z"), ("ch", "c"), ("sh", "s"), ("ang", "an"), ("eng", "en"), ("ing", "in")):
            q = q.replace(long, short)
        return q
    return fuzzy_key(query)


def score(query: str, label: str) -> int:
    """0 when the label does not match; higher is better. Prefix matches beat substring matches."""
    q = query.strip().lower().replace(" ", "")
    if not q:
        return 1
    text = label.lower()
    full, initials = keys(label)
    if text.startswith(q):
        return 100
    if q in text:
        return 80
    if initials.startswith(q):
        return 70
    if full.startswith(q):
        return 65
    if q in initials:
        return 50
    if q in full:
        return 40
    folded = fuzzy_typed(q)
    if folded and len(folded) >= 2 and folded in fuzzy_key(label):
        return 30  # a homophone or a near-homophone: after every exact match
    if len(q) >= 2 and q.isascii() and q.isalpha() and _in_order(q, initials):
        return 20  # initials of words that are not adjacent ("xsfw": 销售…服务 in 销售人员服务): the last resort
    return 0


def _in_order(letters: str, initials: str) -> bool:
    """Whether `letters` appear in `initials` in order (gaps allowed)."""
    rest = iter(initials)
    return all(ch in rest for ch in letters)


def rank(query: str, items: Iterable[tuple[str, Sequence[str]]]) -> list[str]:
    """Ids of the items whose any label matches `query`, best first. items: (id, labels)."""
    scored = []
    for order, (item_id, labels) in enumerate(items):
        best = max((score(query, label) for label in labels if label), default=0)
        if best:
            scored.append((-best, order, item_id))
    return [item_id for _, _, item_id in sorted(scored)]
