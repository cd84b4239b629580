"""Headless tests of the console, driven by keys; each checks the database afterwards."""

from __future__ import annotations


from textual.widgets import Input, OptionList, Static

from agent_console.app import AgentConsoleApp
from agent_console.screens.action_forms import ActionForm
from agent_console.screens.case_detail import CaseDetailScreen
from agent_console.screens.cases import CasesScreen
from agent_console.screens.intake import IntakeScreen
from agent_console.widgets.case_table import CaseTable
from tests.conftest import console, SIZE, make_workspace, sample_case, settle



def table_numbers(app) -> list[str]:
    table = app.screen.query_one("#cases", CaseTable)
    return [table.get_row_at(i)[0] for i in range(table.row_count)]


async def test_open_cases_sorted_masked_filtered_and_searched(ws, clock) -> None:
    late = ws.register(sample_case(facts="车险定损金额偏低", complainant={"name": "赵敏", "phone": "17055556666"}))
    clock.advance(days=4)  # Saturday: the first case's 3 working days are over
    fresh = ws.register(sample_case(category="notifications", facts="保单到期未提醒"))
    async with console(ws) as (app, pilot):
        assert isinstance(app.screen, CasesScreen)
        assert table_numbers(app) == [late.number, fresh.number]  # the breached one first
        row = app.screen.query_one("#cases", CaseTable).get_row_at(0)
        assert "170****6666" in row[3] and "17055556666" not in " ".join(map(str, row))
        assert "超时" in str(row[5])
        await pilot.press("o")  # overdue only
        await settle(pilot)
        assert table_numbers(app) == [late.number]
        await pilot.press("a", "slash")
        await pilot.press(*"定损金额")
        await settle(pilot)
        assert table_numbers(app) == [late.number]
        app.screen.query_one("#search", Input).value = "55556666"
        await settle(pilot)
        assert table_numbers(app) == [late.number]
        app.screen.query_one("#search", Input).value = ""
        await pilot.press("escape", "c")  # category filter cycles to the first category
        await settle(pilot)
        assert table_numbers(app) == []


async def test_countdown_ticks_without_moving_the_cursor(ws, clock) -> None:
    for i in range(3):
        ws.register(sample_case(facts=f"事实{i}"))
        clock.advance(minutes=1)
    async with console(ws) as (app, pilot):
        table = app.screen.query_one("#cases", CaseTable)
        await pilot.press("down")
        before = str(table.get_row_at(1)[5])
        clock.advance(hours=5)
        app.screen.tick()
        await pilot.pause()
        assert table.cursor_row == 1
        assert str(table.get_row_at(1)[5]) != before


async def test_every_lifecycle_action_through_its_form(ws, clock) -> None:
    case = ws.register(sample_case(category="系统", complexity="complex"))
    app = AgentConsoleApp(ws)

    async def act(pilot, kind: str, fill) -> None:
        screen = app.screen
        assert isinstance(screen, CaseDetailScreen)
        screen.start_action(kind)
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ActionForm), kind
        await fill(form, pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)

    async def nothing(form, pilot) -> None:
        return None

    def typed(**values):
        async def fill(form, pilot) -> None:
            from textual.widgets import Select, SelectionList, TextArea

            for name, value in values.items():
                w = form.query_one(f"#f-{name}")
                if isinstance(w, TextArea):
                    w.text = value
                elif isinstance(w, SelectionList):
                    for v in value:
                        w.select(v)
                elif isinstance(w, Select):
                    w.value = value
                else:
                    w.value = str(value)
            await pilot.pause()
        return fill

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_case(case.id)
        await settle(pilot)
        await act(pilot, "assigned", typed(department="it"))
        await act(pilot, "progress_noted", typed(note="已联系信息技术部"))
        await act(pilot, "reminder_sent", typed(note="请尽快反馈"))
        await act(pilot, "contact_attempted", typed(outcome="no_answer"))
        await act(pilot, "customer_updated", typed(note="已告知进展"))
        await act(pilot, "paused", typed(reason="客户出差", evidence="录音 REC-7"))
        await act(pilot, "resumed", nothing)
        await act(pilot, "extension_requested", typed(length="5", reason="需要厂商排查"))
        await act(pilot, "proposed", typed(remedy="修复并补偿流量费", amount="50"))
        await act(pilot, "replied", typed(text="已电话答复"))
        # closing a system case without the fault description is refused next to the field
        await act(pilot, "closed", typed(outcome="at_fault", causes=["system_fault"], stage="customer_service",
                                         report="已修复"))
        assert isinstance(app.screen, ActionForm)
        assert "故障描述" in str(app.screen.query_one("#err-fault_description", Static).render())
        app.screen.query_one("#f-fault_description").text = "上传接口超时"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await act(pilot, "escalated", typed(reason="客户不认可"))
        await act(pilot, "reopened", typed(reason="发现新情况"))
        await act(pilot, "progress_noted", typed(note="重新调查"))
        await act(pilot, "closed", typed(outcome="not_at_fault", causes=["communication"], stage="customer_service",
                                         report="解释清楚", fault_description="无"))
        await act(pilot, "archived", nothing)
    kinds = [e.kind for e in ws.store.events(case.id)]
    for kind in ("assigned", "progress_noted", "reminder_sent", "contact_attempted", "customer_updated", "paused",
                 "resumed", "extension_requested", "proposed", "replied", "closed", "escalated", "reopened",
                 "archived"):
        assert kind in kinds, kind
    state = ws.store.state(case.id)
    assert state.status == "archived" and len(state.escalated_to) == 1
    assert ws.store.state(state.escalated_to[0]).escalated_from == case.id


async def test_illegal_action_is_dimmed_with_its_reason_and_refused(ws) -> None:
    case = ws.register(sample_case())
    async with console(ws, case.id) as (app, pilot):
        actions = app.screen.query_one("#actions", OptionList)
        archived = actions.get_option("archived")
        # dimmed with the reason in the console's language, the case's status named as the list names it
        assert archived.prompt.style == "dim" and "案件当前为“已受理”，不能执行此操作" in str(archived.prompt)
        approve = actions.get_option("extension_approved")
        assert approve.prompt.style == "dim" and "仅班长可执行" in str(approve.prompt)
        # reachable by keys: the cursor goes down to it, Enter says why and opens no form
        await pilot.press("x", "end")
        assert actions.get_option_at_index(actions.highlighted).prompt.style == "dim"
        actions.highlighted = actions.get_option_index("archived")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseDetailScreen)
        assert any("不能执行此操作" in str(n.message) for n in app._notifications)
    assert [e.kind for e in ws.store.events(case.id)] == ["registered", "accepted"]


async def test_lead_console_refused_to_an_agent(ws) -> None:
    async with console(ws) as (app, pilot):
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)


async def test_help_and_palette_go_to_case(ws) -> None:
    case = ws.register(sample_case())
    async with console(ws) as (app, pilot):
        await pilot.press("f1")
        await settle(pilot)
        text = str(app.screen.query_one("Static").render())
        assert "f2" in text and "new_intake" in text
        await pilot.press("escape", "ctrl+p")
        await settle(pilot)
        await pilot.press(*case.number)
        await settle(pilot, 6)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseDetailScreen) and app.screen.case_id == case.id


async def test_english_labels(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock, lang="en")
    ws.register(sample_case())
    async with console(ws) as (app, pilot):
        table = app.screen.query_one("#cases", CaseTable)
        assert [c.label for c in table.columns][:2] == ["Number", "Status"]
        assert table.get_row_at(0)[1] == "Accepted"
        app.open_case(table.cursor_key)
        await settle(pilot)
        archived = app.screen.query_one("#actions", OptionList).get_option("archived")
        assert "not possible while the case is Accepted" in str(archived.prompt)
    ws.close()


async def test_keys_remap_from_config(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock, keymap={"new_intake": "f9"})
    async with console(ws) as (app, pilot):
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, IntakeScreen)
    ws.close()


async def test_slash_and_digits_typed_in_one_burst_all_reach_the_search(ws, clock) -> None:
    from textual import events

    ws.register(sample_case(complainant={"name": "赵敏", "phone": "17055556666"}))
    ws.register(sample_case(complainant={"name": "钱多", "phone": "18912345678"}))
    async with console(ws) as (app, pilot):
        for key, char in [("slash", "/"), ("5", "5"), ("5", "5"), ("5", "5"), ("slash", "/"), ("6", "6")]:
            app.post_message(events.Key(key, char))  # queued together, as a fast typist's keys arrive
        await settle(pilot)
        assert app.screen.query_one("#search", Input).value == "555/6"  # "/" inside the box is text
        app.screen.query_one("#search", Input).value = "5555"
        await settle(pilot)
        assert len(table_numbers(app)) == 1
