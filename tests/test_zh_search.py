"""Search like a Chinese agent types (issue 15): homophones the IME picked, near-homophones, mixed input."""

from __future__ import annotations

import pytest

from agent_console.core.shipped import shipped_phrasebook_dir
from agent_console.core.typeahead import fuzzy_key, rank
from agent_console.phrases import Phrasebook


@pytest.fixture(scope="module")
def book() -> Phrasebook:
    return Phrasebook([shipped_phrasebook_dir()])


def titles(book: Phrasebook, query: str) -> list[str]:
    return [e.title for e in book.search(query, limit=10)]


@pytest.mark.parametrize("query", ["理陪", "li赔", "理pei"])
def test_a_homophone_or_mixed_input_finds_the_claims_replies(book, query) -> None:
    assert "理赔进度查询" in titles(book, query)


def test_near_homophones_fold_together() -> None:
    assert fuzzy_key("理赔") == fuzzy_key("尼陪") == "lipei"  # n/l
    assert fuzzy_key("张") == fuzzy_key("赞")  # zh/z and ang/an
    assert fuzzy_key("定损") == fuzzy_key("订孙")


def test_exact_substring_hits_still_rank_first(book) -> None:
    # "赔" is typed exactly: the entries whose title holds it come before those found by sound alone
    found = titles(book, "赔")
    holding = [i for i, t in enumerate(found) if "赔" in t]
    assert holding and holding == list(range(len(holding)))


def test_category_type_ahead_by_sound() -> None:
    items = [("claims", ["理赔", "Claims"]), ("sales", ["展业", "Sales"])]
    assert rank("理陪", items) == ["claims"]
    assert rank("li赔", items) == ["claims"]
    assert rank("zanye", items) == ["sales"]  # zh typed as z
