"""The phrasebook: content, search, filling, includes, validation, forbidden phrasing, reload, usage, copying."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pyperclip
import pytest

from agent_console.services import phrase_lookup as phrase_service
from agent_console.support.clipboard import CopyFailed, copy
from agent_console.core.shipped import shipped_phrasebook_dir
from agent_console.phrases import Phrasebook, fill, validate_all
from agent_console.store import phrase_usage
from tests.conftest import sample_case

SHIPPED = Phrasebook([shipped_phrasebook_dir()])


def ids(results) -> list[str]:
    return [e.id for e in results]


def test_shipped_content_is_valid_and_large_enough() -> None:
    assert SHIPPED.problems == []
    assert len(SHIPPED.entries) >= 150
    assert len(SHIPPED.forbidden) >= 10
    situations = set(SHIPPED.situations())
    for needed in ("greeting", "empathy", "apology when we are at fault", "refusing politely with the reason",
                   "committing to a time", "escalating to the lead", "customer unreachable",
                   "callback and satisfaction survey", "persistent or abusive caller", "power outage",
                   "legal-aid lawyer neglect", "delivery late, lost or damaged", "colour difference"):
        assert needed in situations


@pytest.mark.parametrize("query, expected", [
    ("理赔时效", "claims.slow_apology"),  # Chinese substring (tag)
    ("定损偏低", "loss.low_review"),
    ("lpsx", "claims.slow_apology"),  # pinyin initials of 理赔时效
    ("lipeishixiao", "claims.slow_apology"),  # full pinyin
    ("dingsun", "loss.low_review"),
    ("定顺", None),  # nothing sensible; must not crash
])
def test_search_by_chinese_pinyin_and_initials(query: str, expected: str | None) -> None:
    found = ids(SHIPPED.search(query, limit=5))
    if expected:
        assert expected in found[:3], found


def test_typos_still_find_the_entry() -> None:
    assert "loss.low_review" in ids(SHIPPED.search("dingsunpiandi", limit=5)) or \
        "loss.low_review" in ids(SHIPPED.search("定损偏底", limit=5))
    assert any(i.startswith("return.") for i in ids(SHIPPED.search("tuihou", limit=5)))


def test_category_and_stage_rank_first() -> None:
    plain = ids(SHIPPED.search("道歉", limit=10))
    for_system = ids(SHIPPED.search("道歉", category="system", limit=10))
    assert for_system[0] == "apology.system" and plain[0] != "apology.system"
    closing = ids(SHIPPED.search("", stage="closing", limit=5))
    assert all(SHIPPED.get(i).stage == "closing" for i in closing)


def test_results_from_the_first_keystroke() -> None:
    assert SHIPPED.search("理", limit=5)
    assert SHIPPED.search("l", limit=5)


def test_fill_and_missing_placeholders() -> None:
    text, missing = fill("{caller}，编号{number}，{reason}", {"caller": "王女士", "number": "2611-AAA-001", "reason": " "})
    assert text == "王女士，编号2611-AAA-001，{reason}" and missing == ["reason"]


def test_fill_from_the_case_with_the_real_due_date(ws) -> None:
    case = ws.register(sample_case(complainant={"name": "王芳", "title": "女士", "phone": "17012345678"}))
    entry = SHIPPED.get("close.summary")
    filled = phrase_service.fill_entry(ws, entry, {"case_id": case.id})
    assert filled.missing == []
    assert "王女士" in filled.text and case.number in filled.text and "11月27日" in filled.text


def test_includes_resolve_and_errors_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        '[[block]]\nid = "b1"\ntext = "共享句{{include:b2}}"\n\n[[block]]\nid = "b2"\ntext = "尾巴"\n\n'
        '[[entry]]\nid = "e1"\nsituation = "s"\ntitle = "t"\ntext = "开头{{include:b1}}"\n\n'
        '[[entry]]\nid = "e1"\nsituation = "s"\ntitle = "dup"\ntext = "x"\n\n'
        '[[entry]]\nid = "e3"\nsituation = "s"\ntitle = "t3"\ntext = "{{include:nope}}"\n\n'
        '[[entry]]\nid = "e4"\nsituation = "s"\ntext = "no title"\n\n'
        '[[entry]]\nid = "e5"\nsituation = "s"\ntitle = "t5"\ntext = "{mystery}"\n', encoding="utf-8")
    (tmp_path / "loop.toml").write_text(
        '[[block]]\nid = "x"\ntext = "{{include:y}}"\n[[block]]\nid = "y"\ntext = "{{include:x}}"\n'
        '[[entry]]\nid = "e6"\nsituation = "s"\ntitle = "t6"\ntext = "{{include:x}}"\n', encoding="utf-8")
    (tmp_path / "broken.toml").write_text('[[entry]\nid = "z"\n', encoding="utf-8")
    book = Phrasebook([tmp_path])
    assert ids(book.entries) == ["e1"] and book.get("e1").text == "开头共享句尾巴"
    problems = "\n".join(map(str, book.problems))
    assert f"{tmp_path / 'a.toml'}:15: duplicate id 'e1'" in problems
    assert f"{tmp_path / 'a.toml'}:21: entry 'e3': include 'nope' does not exist" in problems
    assert f"{tmp_path / 'a.toml'}:27: entry 'e4' lacks title" in problems
    assert "unknown placeholder {mystery}" in problems
    assert "include loop: x -> y -> x" in problems
    assert f"{tmp_path / 'broken.toml'}:1" in problems and "file left out" in problems
    assert [str(p) for p in validate_all([tmp_path])] == [str(p) for p in book.problems]


def test_edits_are_picked_up_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[[entry]]\nid = "a"\nsituation = "s"\ntitle = "旧标题"\ntext = "x"\n', encoding="utf-8")
    book = Phrasebook([tmp_path])
    assert ids(book.search("旧标题")) == ["a"]
    path.write_text('[[entry]]\nid = "a"\nsituation = "s"\ntitle = "新标题"\ntext = "x"\n', encoding="utf-8")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert ids(book.search("新标题")) == ["a"]


def test_forbidden_phrasing_is_found_with_what_to_say_instead() -> None:
    hits = SHIPPED.check_text("这个嘛，我做不了主，你自己去找快递吧")
    phrases = {h.phrase for h in hits}
    assert {"我做不了主", "你自己去找快递"} <= phrases
    assert all(h.say_instead for h in hits)
    assert SHIPPED.check_text("我请主管来和您沟通") == []


def test_usage_is_counted_by_entry_and_category(ws) -> None:
    entry = SHIPPED.get("empathy.understand")
    phrase_service.record_use(ws, entry, {"category": "claims"})
    phrase_service.record_use(ws, entry, {"category": "claims"})
    assert phrase_usage.counts(ws.store.conn, ws.actor)["empathy.understand"] == 2
    assert phrase_usage.by_category(ws.store.conn)[0] == ("claims", "empathy.understand", 2)


def test_copy_uses_the_system_clipboard_or_the_terminal(monkeypatch) -> None:
    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", lambda text: copied.append(text))
    assert copy("甲", terminal=lambda t: pytest.fail("should not use the terminal")) == "system"
    assert copied == ["甲"]

    def no_clipboard(text: str) -> None:
        raise pyperclip.PyperclipException("no display")

    monkeypatch.setattr(pyperclip, "copy", no_clipboard)
    through_terminal: list[str] = []
    assert copy("乙", terminal=through_terminal.append) == "terminal" and through_terminal == ["乙"]
    with pytest.raises(CopyFailed):
        copy("丙", terminal=None)


def test_phrase_command(capsys, tmp_path, monkeypatch) -> None:
    from agent_console.cli import main

    db = str(tmp_path / "p.db")
    assert main(["phrase", "lpsx", "--json", "--db", db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "claims.slow_apology" in [r["id"] for r in out["results"][:4]]
    assert all(r["id"].startswith("claims.") for r in out["results"][:4])
    monkeypatch.setattr(pyperclip, "copy", lambda text: None)
    assert main(["phrase", "缺材料", "--copy", "--db", db]) == 1  # {document} unknown: refused, not copied empty
    assert "--set document=" in capsys.readouterr().err
    assert main(["phrase", "缺材料", "--copy", "--set", "document=出院小结", "--json", "--db", db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["copied"] == "system" and "出院小结" in out["results"][0]["text"]
