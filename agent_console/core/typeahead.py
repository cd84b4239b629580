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
    return 0


def rank(query: str, items: Iterable[tuple[str, Sequence[str]]]) -> list[str]:
    """Ids of the items whose any label matches `query`, best first. items: (id, labels)."""
    scored = []
    for order, (item_id, labels) in enumerate(items):
        best = max((score(query, label) for label in labels if label), default=0)
        if best:
            scored.append((-best, order, item_id))
    return [item_id for _, _, item_id in sorted(scored)]
