"""Case text found by its sound (issues 15, 18): a homophone the IME picked (理陪 for 理赔), the near-homophones it
offers (zh/z ch/c sh/s n/l an/ang en/eng in/ing), full pinyin and mixed input, from an index, exact hits first."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_console.core import search_terms
from agent_console.core.case_query import CaseQuery
from agent_console.store.local import LocalStore
from tests.conftest import make_workspace, sample_case


def _numbers(rows) -> list[str]:
    return [r["number"] for r in rows]


@pytest.fixture
def texts(ws):
    made = {
        "claims": ws.register(sample_case(facts="理赔材料已寄出，一直没有回音", request="尽快审核", respondent="客服部",
                                          complainant={"name": "赵敏", "phone": "17055556666"})),
        "bank": ws.register(sample_case(facts="银行扣款两次", request="退还多扣的钱", respondent="某某银行",
                                        complainant={"name": "钱七", "phone": "17055557777"})),
        "zheng": ws.register(sample_case(facts="客户要求更正保单上的姓名", request="重新出具保单", respondent="客服部",
                                         complainant={"name": "孙八", "phone": "17055558888"})),
        "boss": ws.register(sample_case(facts="客户要求见支行行长", request="当面说明", respondent="营业部",
                                        complainant={"name": "周九", "phone": "17055559999"})),
    }
    return made


@pytest.mark.parametrize("typed, case", [
    ("理陪", "claims"), ("理陪材料", "claims"), ("尼陪", "claims"),  # a homophone; n/l
    ("li赔", "claims"), ("lipei", "claims"), ("lipeicailiao", "claims"), ("理pei", "claims"),  # pinyin, mixed
    ("lipeic", "claims"),  # the last syllable still being typed
    ("银航", "bank"), ("寅杭", "bank"),  # 行 read hang (its second reading); in/ing, an/ang
    ("跟正", "zheng"), ("更政", "zheng"), ("更zen", "zheng"),  # en/eng, zh/z
    ("从新", "zheng"), ("冲新", "zheng"),  # 重 read chong; ch/c
    ("推还", "bank"),  # 推 tui for 退 tui, 还 read huan
    ("因汗", "bank"), ("英行", "bank"), ("更增", "zheng"), ("森核", "claims"),  # an/ang, in/ing, zh/z, sh/s
    # 行长 read as the phrase (háng zhǎng: 行's second reading beside 长's first), from pypinyin's phrase dictionary
    ("hangzhang", "boss"), ("航掌", "boss"), ("行zhang", "boss"), ("hang长", "boss"), ("hanzan", "boss"),
])
def test_case_text_is_found_by_its_sound(ws, texts, typed, case) -> None:
    want = texts[case].number
    for q in (CaseQuery(text=typed, open_only=True, owner=ws.actor, limit=50),  # the open-cases search box
              CaseQuery(text=typed)):  # case list --search
        assert want in _numbers(ws.store.case_rows(q)), (typed, q)


@pytest.mark.parametrize("typed", ["理赔", "审核", "银行"])
def test_a_correct_term_still_finds_its_case(ws, texts, typed) -> None:
    assert _numbers(ws.store.case_rows(CaseQuery(text=typed, open_only=True, limit=50)))


@pytest.mark.parametrize("typed", ["李", "li", "wf", "5678", "理赔5", "金额", "材理"])
def test_what_does_not_sound_like_the_text_finds_nothing_by_sound(ws, texts, typed) -> None:
    # one syllable alone, letters that are not pinyin, digits, another word, the pairs out of order
    assert search_terms.sound_query(typed) is None or texts["claims"].number not in _numbers(
        ws.store.case_rows(CaseQuery(text=typed, limit=50)))


def test_exact_substring_hits_rank_before_those_found_by_sound(ws) -> None:
    exact = ws.register(sample_case(facts="理赔材料不全", respondent="客服部",
                                    complainant={"name": "李四", "phone": "17000000001"}))
    heard = [ws.register(sample_case(facts="理陪材料不全", respondent="客服部",
                                     complainant={"name": "张三", "phone": "17000000002"}))
             for _ in range(3)]  # newer, found by sound only
    for typed in ("理赔", "理陪"):
        rows = _numbers(ws.store.case_rows(CaseQuery(text=typed, open_only=True, owner=ws.actor, limit=10)))
        assert set(rows) == {exact.number, *(h.number for h in heard)}
        first = exact.number if typed == "理赔" else heard[-1].number
        assert rows[0] == first, (typed, rows)
        listed = _numbers(ws.store.case_rows(CaseQuery(text=typed)))  # case list --search: exact ones first
        exact_ones = {exact.number} if typed == "理赔" else {h.number for h in heard}
        assert set(listed[:len(exact_ones)]) == exact_ones and len(listed) == 4
    assert _numbers(ws.store.case_rows(CaseQuery(text="理赔", limit=1))) == [exact.number]  # stops at the limit


def test_every_term_must_be_found_by_text_or_by_sound(ws, texts) -> None:
    claims = texts["claims"].number
    assert _numbers(ws.store.case_rows(CaseQuery(text="赵敏 理陪", limit=50))) == [claims]
    assert _numbers(ws.store.case_rows(CaseQuery(text="赵 理陪", limit=50))) == [claims]  # a character and a sound
    assert _numbers(ws.store.case_rows(CaseQuery(text="照敏 理陪", limit=50))) == [claims]  # both by sound
    assert _numbers(ws.store.case_rows(CaseQuery(text="钱 理陪", limit=50))) == []
    assert _numbers(ws.store.case_rows(CaseQuery(text="理陪", phone="5666", limit=50))) == [claims]
    assert _numbers(ws.store.case_rows(CaseQuery(text="理陪", phone="5777", limit=50))) == []
    assert _numbers(ws.store.case_rows(CaseQuery(text="理陪", phone="5777"))) == []


def test_a_case_leaves_the_open_sound_index_when_closed(ws, texts) -> None:
    from tests.test_lifecycle import CLOSE

    claims = texts["claims"]
    mine = CaseQuery(text="理陪", open_only=True, owner=ws.actor, limit=50)
    assert _numbers(ws.store.case_rows(mine)) == [claims.number]
    ws.act(claims.id, "closed", CLOSE)
    assert _numbers(ws.store.case_rows(mine)) == []
    assert _numbers(ws.store.case_rows(CaseQuery(text="理陪", limit=50))) == [claims.number]
    assert _numbers(ws.store.case_rows(CaseQuery(text="理陪", owner="someone-else", limit=50))) == []


def test_every_search_by_sound_is_served_by_the_index(ws, texts, monkeypatch) -> None:
    seen: list[tuple[str, list]] = []
    original = ws.store._rows
    monkeypatch.setattr(ws.store, "_rows", lambda sql, params: seen.append((sql, params)) or original(sql, params))
    for kw in ({"text": "理陪"}, {"text": "lipei"}, {"text": "赵 理陪"}, {"text": "理陪", "phone": "5666"}):
        ws.store.case_rows(CaseQuery(open_only=True, owner=ws.actor, limit=50, **kw))
        ws.store.case_rows(CaseQuery(limit=50, **kw))
    sounded = [(sql, params) for sql, params in seen if "_sound" in sql]
    assert len(sounded) == 8
    for sql, params in sounded:
        plan = " | ".join(r[3] for r in ws.store.conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "VIRTUAL TABLE" in plan and not re.search(r"\bSCAN c\b", plan), plan


def test_a_database_indexed_before_the_sounds_gets_them_when_opened(tmp_path, clock) -> None:
    w = make_workspace(tmp_path, clock)
    s = w.register(sample_case(facts="理赔材料已寄出"))
    w.store.conn.execute("DELETE FROM cases_sound")
    w.store.conn.execute("DELETE FROM open_sound")
    w.store.conn.execute("DELETE FROM schema_migrations WHERE name = '0520_case_sounds'")
    w.store.conn.execute("DROP TABLE cases_sound")
    w.store.conn.execute("DROP TABLE open_sound")
    w.store.conn.commit()
    w.close()
    store = LocalStore(tmp_path / "local.db")
    assert store.meta("search_index") is None
    assert [r["id"] for r in store.case_rows(CaseQuery(text="理陪", open_only=True, limit=5))] == [s.id]
    assert [r["id"] for r in store.case_rows(CaseQuery(text="理陪"))] == [s.id]
    store.close()


def test_a_database_indexed_before_the_phrase_readings_gets_them_when_opened(tmp_path, clock) -> None:
    w = make_workspace(tmp_path, clock)
    s = w.register(sample_case(facts="要求见行长"))
    w.store.conn.execute("UPDATE cases_sound SET sound = replace(sound, ' han0zan', '')")
    w.store.conn.execute("UPDATE open_sound SET sound = replace(sound, ' han0zan', '')")
    w.store.conn.execute("DELETE FROM schema_migrations WHERE name = '0710_sound_phrases'")
    w.store.conn.commit()
    assert w.store.case_rows(CaseQuery(text="hangzhang")) == []  # as an older console indexed it
    w.close()
    store = LocalStore(tmp_path / "local.db")
    assert [r["id"] for r in store.case_rows(CaseQuery(text="hangzhang", open_only=True, limit=5))] == [s.id]
    store.close()


def test_the_sound_column_is_made_by_tables_not_per_character_calls(monkeypatch) -> None:
    import pypinyin

    search_terms._sounds()
    search_terms._text_sound.cache_clear()
    monkeypatch.setattr(pypinyin, "lazy_pinyin", lambda *a, **k: pytest.fail("pypinyin called per text"))
    monkeypatch.setattr(pypinyin, "pinyin", lambda *a, **k: pytest.fail("pypinyin called per text"))
    assert search_terms.sound_terms(["理赔材料"]) == "li0pei pei0cai cai0liao"


HAN = "理赔陪材料王芳方行银航还重张赞"


@settings(max_examples=200, deadline=None)
@given(text=st.text(HAN + "a1，", max_size=12), query=st.text(HAN, min_size=2, max_size=4))
def test_a_substring_of_the_text_is_always_found_by_its_sound(text, query) -> None:
    """Whatever is typed exactly (any characters of the text in order, adjacent) is found by sound as well: the
    sound index never loses what the exact one finds."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (sound, tokenize = 'ascii')")
    conn.execute("INSERT INTO t (rowid, sound) VALUES (1, ?)", (search_terms.sound_terms([text]),))
    expr = search_terms.sound_query(query)
    assert expr is not None
    found = conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall() == [(1,)]
    if query in text:
        assert found


def test_case_list_search_finds_a_homophone_from_the_cli(capsys, monkeypatch, tmp_path) -> None:
    import json

    from tests.test_cli import NEW, run

    db = str(tmp_path / "cli.db")
    made = []
    for facts in ("理赔款迟迟未到账", "保单到期未提醒"):
        code, out, _ = run(capsys, "--db", db, "--agent", "clerk", "case", "new",
                           stdin=json.dumps({**NEW, "facts": facts, "respondent": "客服部"}), monkeypatch=monkeypatch)
        assert code == 0
        made.append(json.loads(out)["number"])
    for typed in ("理陪款", "lipeikuan", "迟迟未到帐"):  # a homophone, full pinyin, 帐 for 账
        code, out, _ = run(capsys, "case", "list", "--search", typed, "--json", "--db", db)
        assert code == 0 and [c["number"] for c in json.loads(out)] == [made[0]], typed
