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


# -- the open-cases search box and the palette: callers by sound, cases by part of their number --------------------
def _names(ws, text: str) -> list[str]:
    from agent_console.core.case_query import CaseQuery

    return [ws.find(r["id"]).complainant.name for r in ws.list_summaries(CaseQuery(text=text, open_only=True,
                                                                                   limit=10))]


@pytest.fixture
def callers(tmp_path, clock):
    from tests.conftest import make_workspace, sample_case

    ws = make_workspace(tmp_path, clock)
    for name in ("王芳", "张三丰", "李宁", "Lily Chen"):
        ws.register(sample_case(complainant={"name": name, "title": "女士", "phone": "17012345678"}))
    yield ws
    ws.close()


@pytest.mark.parametrize("typed, name", [("wangfang", "王芳"), ("wanfan", "王芳"), ("wf", "王芳"), ("王方", "王芳"),
                                         ("fang", "王芳"), ("zhangsanfeng", "张三丰"), ("zansanfen", "张三丰"),
                                         ("zsf", "张三丰"), ("sanfeng", "张三丰"), ("ning", "李宁"), ("lily", "Lily Chen")])
def test_the_open_cases_search_finds_a_caller_by_pinyin_initials_or_a_homophone(callers, typed, name) -> None:
    assert _names(callers, typed) == [name]


def test_a_database_indexed_before_the_sounds_is_indexed_again_on_opening(tmp_path, clock) -> None:
    from tests.conftest import make_workspace, sample_case

    ws = make_workspace(tmp_path, clock)
    ws.register(sample_case(complainant={"name": "王芳", "title": "女士", "phone": "17012345678"}))
    ws.store.conn.execute("DELETE FROM schema_migrations WHERE name = '0510_search_sounds'")
    ws.store.conn.execute("UPDATE open_search SET who1 = 'x', who2 = 'x'")  # as an older console wrote it
    ws.store.conn.execute("DELETE FROM open_sound")  # (before the case text's sounds too)
    ws.store.conn.commit()
    assert _names(ws, "wangfang") == []
    ws.close()
    again = make_workspace(tmp_path, clock)
    assert _names(again, "wangfang") == ["王芳"]
    again.close()


async def _palette_lines(ws, typed: str) -> str:
    from agent_console.app import AgentConsoleApp
    from tests.test_ui_console import settle

    app = AgentConsoleApp(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        for key in typed:
            await pilot.press(key)
        await pilot.pause(0.5)
        await settle(pilot)
        return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.mark.parametrize("typed", ["wangfang", "wf", "王方"])
async def test_the_palette_finds_a_case_by_its_callers_name_in_pinyin(callers, typed) -> None:
    wang = next(r for r in _numbers(callers) if r[1] == "王芳")
    shown = await _palette_lines(callers, typed)
    assert wang[0] in shown, shown


async def test_the_palette_finds_cases_by_part_of_their_number(callers) -> None:
    numbers = [n for n, _ in _numbers(callers)]
    device = numbers[0].split("-")[1]
    shown = await _palette_lines(callers, f"{device}-00")
    assert all(n in shown for n in numbers), shown


async def test_the_palette_finds_a_command_by_its_initials(callers) -> None:
    shown = await _palette_lines(callers, "xjdj")
    assert "新建登记" in shown, shown


def _numbers(ws) -> list[tuple[str, str]]:
    from agent_console.core.case_query import CaseQuery

    return [(r["number"], ws.find(r["id"]).complainant.name) for r in ws.list_summaries(CaseQuery(limit=10))]


# -- the phrasebook: initials across title, tags and text, in order with gaps ----------------------------------------
def _book(tmp_path, entries: list[tuple[str, str, str]]) -> Phrasebook:
    import json

    folder = tmp_path / "book"
    folder.mkdir()
    lines = []
    for n, (title, tags, text) in enumerate(entries):
        lines += ["[[entry]]", f'id = "e{n}"', 'situation = "测试"', f"title = {json.dumps(title)}",
                  f"tags = {json.dumps(tags.split())}", f"text = {json.dumps(text)}", ""]
    (folder / "t.toml").write_text("\n".join(lines), encoding="utf-8")
    return Phrasebook([folder])


def test_initials_of_words_not_adjacent_in_the_title_find_the_entry(book) -> None:
    assert "理赔进度查询" in titles(book, "lpcx")  # 理赔 … 查询, 进度 skipped


def test_initials_of_words_only_in_the_text_find_the_entry(book) -> None:
    assert "理赔进度查询" in titles(book, "wbncyx")  # 我帮您催一下, in its text only
    assert "理赔进度查询" in titles(book, "wbcyx")  # the same, 您 skipped


def test_letters_as_typed_rank_before_initials_with_gaps_and_text_initials(tmp_path) -> None:
    book = _book(tmp_path, [("客户来电四", "", "关于退保的手续说明。"),  # in the text, 3 characters skipped
                            ("客户来电三", "", "关于退保说明的问题。"),  # in the text, as typed
                            ("退保手续说明", "", "请带好证件。"),  # in the title, 手续 skipped
                            ("客户来电二", "", "请输入代码tbsm。"),  # the letters themselves, in the text
                            ("退保说明", "", "请稍候。")])  # the title's own initials
    found = [e.title for e in book.search("tbsm", limit=10)]
    assert found == ["退保说明", "客户来电二", "退保手续说明", "客户来电三", "客户来电四"], found


def test_text_initials_do_not_match_letters_far_apart(tmp_path) -> None:
    book = _book(tmp_path, [("客户来电", "", "理" + "的" * 10 + "赔" + "的" * 10 + "查")])
    assert book.search("lpc") == []


def test_one_character_searches_rank_as_every_other_search(book) -> None:
    """The per-character score tables (the fast path of a first keystroke) give the order a plain ranking gives."""
    for q in ["理", "l", "赔", "d", "您", "x", "a"]:
        for category, stage in [(None, None), ("claims", "case"), ("sales", "opening")]:
            boost = book._boosts(category, stage, None)
            scores = book._scores(q, 10**9)
            plain = sorted(scores, key=lambda i: (-(scores[i] + boost[i]), i))[:20]
            assert [e.id for e in book.search(q, category, stage)] == [book.entries[i].id for i in plain], q
            assert [e.id for e in book.search(q, category, stage)] == [book.entries[i].id for i in plain], q


def test_category_type_ahead_by_initials_of_words_not_adjacent(tmp_path, clock) -> None:
    from tests.conftest import make_workspace

    ws = make_workspace(tmp_path, clock)
    items = [(c.id, [c.label, c.label_en, c.id]) for c in ws.profile.categories]
    ws.close()
    staff = [cid for cid, labels in items if labels[0] == "销售人员服务"]
    assert staff and rank("xsfw", items)[:1] == staff  # 销售 … 服务, 人员 skipped
    assert rank("xsry", items)[:1] == staff  # as typed still works


@pytest.mark.parametrize("typed", ["zhaomin", "zm", "赵民"])
async def test_the_open_cases_box_finds_the_caller_typed_in_pinyin(tmp_path, clock, typed) -> None:
    from tests.conftest import make_workspace, sample_case
    from tests.test_ui_console import console, settle, table_numbers

    ws = make_workspace(tmp_path, clock)
    zhao = ws.register(sample_case(complainant={"name": "赵敏", "phone": "17055556666"}))
    ws.register(sample_case(complainant={"name": "钱多", "phone": "18912345678"}))
    async with console(ws) as (app, pilot):
        await pilot.press("slash", *typed)
        await settle(pilot)
        assert table_numbers(app) == [zhao.number]
    ws.close()
