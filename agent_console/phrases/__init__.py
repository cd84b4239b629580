"""The phrasebook: scripted replies as data files, validated with file and line, searched by Chinese substring,
pinyin, pinyin initials and typo-tolerant matching, filled from the case, and checked for forbidden phrasing.

No Textual here; the console's panel and the `phrase` command both use `Phrasebook`.
"""

from agent_console.phrases.book import Entry, Forbidden, Phrasebook, load_phrasebook, validate_all
from agent_console.phrases.fill import KNOWN_PLACEHOLDERS, fill, placeholders_of

__all__ = ["Entry", "Forbidden", "KNOWN_PLACEHOLDERS", "Phrasebook", "fill", "load_phrasebook",
           "placeholders_of", "validate_all"]
