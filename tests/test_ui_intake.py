"""Live intake by keys: register with read-back, draft restored after a crash, repeat callers, the ladder,
enquiries, validation and pasted junk. The database is checked after each flow."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input, OptionList, Static, TextArea

from agent_console.app import AgentConsoleApp
from agent_console.screens.cases import CasesScreen
from agent_console.screens.intake import IntakeScreen, ReadBackDialog
from agent_console.core.case_query import CaseQuery
from tests.conftest import console, make_workspace, sample_case
from tests.test_ui_console import SIZE, settle


async def open_intake(pilot) -> IntakeScreen:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, IntakeScreen)
    return pilot.app.screen


async def fill(pilot, screen: IntakeScreen, **values: str) -> None:
    for name, value in values.items():
        widget = screen.query_one(f"#f-{name}")
        if isinstance(widget, TextArea):
            widget.text = value
        else:
            widget.value = value
        await pilot.pause()


async def test_intake_to_registered_case_with_read_back(ws, clock) -> None:
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press(*"17012340000")
        await pilot.press("tab", *"wangfang")
        await fill(pilot, screen, name="王芳")
        screen.query_one("#f-category", Input).focus()
        await pilot.press("l", "p")  # pinyin initials of 理赔
        await settle(pilot)
        suggestions = screen.query_one("#category-suggestions", OptionList)
        assert suggestions.display and suggestions.get_option_at_index(0).id == "claims"
        await pilot.press("enter")
        assert screen.query_one("#f-category", Input).value == "理赔"
        await fill(pilot, screen, facts="理赔款三周未到账", request="本周内到账")
        clock.advance(minutes=4)
        await pilot.press("ctrl+r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ReadBackDialog)
        assert "理赔" in dialog.text and "11月27日" in dialog.text  # 3 working days from Tuesday 11-24
        await pilot.press("enter")
        await settle(pilot)
        # the screen stays with the case number in plain sight until the next call
        assert app.screen is screen
        cases = ws.list_cases(CaseQuery(), mask=False)
        assert len(cases) == 1
        number = cases[0]["number"]
        banner = str(screen.query_one("#case-number", Static).render())
        assert screen.query_one("#case-number", Static).display and number in banner
        assert " ".join(number.split("-")[0]) in banner  # read out character by character
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
    case = cases[0]
    assert case["complainant"]["phone"] == "17012340000" and case["category"] == "claims"
    kinds = [e.kind for e in ws.store.events(case["id"])]
    assert kinds == ["registered", "accepted", "read_back"]
    said = ws.store.events(case["id"])[2].payload["summary"]
    assert "11月27日" in said and case["number"] in said  # the caller heard the number: it is in the record
    assert "。；" not in said and "。。" not in said
    assert ws.store.drafts(ws.actor) == []


async def test_validation_messages_next_to_the_fields(ws) -> None:
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, screen, phone="123", category="天气")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # in the console's language (issue 15: "unknown category 'kfu'" on a Chinese screen)
        assert str(screen.query_one("#err-phone", Static).render()) == "电话号码至少要有 5 位数字"
        assert "没有“天气”这个类别" in str(screen.query_one("#err-category", Static).render())
        assert str(screen.query_one("#err-facts", Static).render()) == "必填"
    assert ws.store.count_cases() == 0


async def test_draft_survives_a_crash_mid_intake(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press(*"17099998888")
        await fill(pilot, screen, name="李雷", facts="保单无法查询", request="恢复查询")
        await pilot.pause(0.5)  # the autosave fires 0.3 s after typing stops
        await settle(pilot)
    # the app is gone without saving (as if killed); a new console on the same database
    ws.close()
    ws2 = make_workspace(tmp_path, clock)
    app2 = AgentConsoleApp(ws2)
    clock.advance(minutes=3)
    async with app2.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        # the next call starts empty; the cut-off one is offered, saying what happened
        assert screen.query_one("#f-phone", Input).value == ""
        offer = str(screen.query_one("#draft-offer", Static).render())
        assert "意外退出" in offer and "170****8888" in offer and "10:00" in offer
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert screen.query_one("#f-phone", Input).value == "17099998888"
        assert screen.query_one("#f-name", Input).value == "李雷"
        assert screen.query_one("#f-facts", TextArea).text == "保单无法查询"
        assert screen.started == clock.t - timedelta(minutes=3)  # its own call start, its own timer
        assert "03:00" in str(screen.query_one("#call-timer", Static).render())
    ws2.close()


async def test_repeat_caller_found_and_call_attached(ws, clock) -> None:
    old = ws.register(sample_case(complainant={"name": "周杰", "phone": "17011112222"}))
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press(*"17011112222")
        await settle(pilot)
        earlier = screen.query_one("#earlier", OptionList)
        assert earlier.option_count == 1 and earlier.get_option_at_index(0).id == old.id
        assert "repeat" in screen.query_one("#f-flags").selected
        await fill(pilot, screen, facts="又来催了")
        earlier.highlighted = 0
        await pilot.press("ctrl+a")
        await settle(pilot)
    assert ws.store.count_cases() == 1
    state = ws.store.state(old.id)
    assert "repeat" in state.flags
    notes = [e.payload.get("note", "") for e in ws.store.events(old.id) if e.kind == "progress_noted"]
    assert notes and "又来催了" in notes[0]


async def test_dissatisfaction_prompt_at_the_limit_and_report(ws, clock) -> None:
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, screen, phone="17033334444", category="理赔", facts="等了一个月", request="马上赔")
        await pilot.press("ctrl+u")
        clock.advance(minutes=4, seconds=59)
        screen._tick()
        timer = screen.query_one("#call-timer", Static)
        assert timer.has_class("upset") and not timer.has_class("report-due")
        clock.advance(seconds=2)
        screen._tick()
        assert timer.has_class("report-due") and "Ctrl+L" in str(timer.render())
        await pilot.press("ctrl+l")
        await settle(pilot)
    case = ws.list_cases(CaseQuery(), mask=False)[0]
    events = ws.store.events(case["id"])
    report = next(e for e in events if e.kind == "dissatisfaction_reported")
    assert report.payload["upset_since"] == "2026-11-24T10:00:00+08:00"
    state = ws.store.state(case["id"])
    assert state.clocks["lead_calm"].due == report.at + timedelta(minutes=10)


async def test_enquiry_recorded_without_a_case(ws) -> None:
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, screen, phone="17055550000", facts="问保单贷款利率", request="已告知")
        await pilot.press("ctrl+e")
        await settle(pilot)
    assert ws.store.count_cases() == 0
    assert ws.store.enquiries(phone="17055550000")[0]["topic"] == "问保单贷款利率"


async def test_pasted_escapes_are_cleaned_and_huge_paste_is_cut_with_a_warning(ws) -> None:
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        name = screen.query_one("#f-name", Input)
        name.value = "王\x1b[31m芳\x07"
        await settle(pilot)
        assert name.value == "王芳"
        facts = screen.query_one("#f-facts", TextArea)
        facts.text = "长" * 1_000_000
        await settle(pilot)
        assert len(facts.text) == 20_000


async def test_digits_typed_right_behind_f2_are_the_callers_number(ws, clock) -> None:
    from textual import events

    earlier = ws.register(sample_case(complainant={"name": "赵敏", "phone": "17055556666"}))
    async with console(ws) as (app, pilot):
        app.post_message(events.Key("f2", None))
        for digit in "17055556666":  # queued behind F2, before the intake screen exists
            app.post_message(events.Key(digit, digit))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IntakeScreen)
        assert screen.query_one("#f-phone", Input).value == "17055556666"
        await settle(pilot)
        found = screen.query_one("#earlier", OptionList)  # the repeat caller is caught as usual
        assert found.option_count == 1 and found.get_option_at_index(0).id == earlier.id


async def test_one_call_about_two_categories_becomes_two_linked_cases(ws, clock) -> None:
    from textual.widgets import SelectionList

    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press(*"17012340000")
        await fill(pilot, screen, name="王芳", category="理赔", facts="理赔款未到账，到账通知短信也没收到",
                   request="尽快到账并解释")
        also = screen.query_one("#f-also", SelectionList)
        also.focus()
        await pilot.pause()
        also.highlighted = next(i for i in range(also.option_count)
                                if also.get_option_at_index(i).value == "notifications")
        await pilot.press("space")  # ticked by key
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "另外，通知服务方面的问题我们会同时转相关部门处理" in app.screen.text
        await pilot.press("enter")
        await settle(pilot)
    cases = {c["category"]: c for c in ws.list_cases(CaseQuery(), mask=False)}
    assert set(cases) == {"claims", "notifications"}
    main, copy = ws.store.state(cases["claims"]["id"]), ws.store.state(cases["notifications"]["id"])
    assert main.linked == [copy.id] and copy.linked == [main.id]
    assert copy.lead_case == main.id and main.lead_case is None
    assert copy.department == ws.profile.category("notifications").department != main.department
    assert copy.facts == main.facts and copy.complainant.phone == "17012340000"
    for case in (main, copy):  # the caller heard one read-back; it is on the record of both
        assert [e.kind for e in ws.store.events(case.id)] == ["registered", "accepted", "read_back"]


def test_a_split_intake_is_all_or_nothing(ws) -> None:
    from agent_console.services import live_intake as svc
    from agent_console.core.new_case import IntakeError

    form = {"phone": "17012340000", "name": "王芳", "category": "claims", "facts": "事实", "request": "诉求",
            "also": ["notifications", "天气"]}
    try:
        svc.register(ws, form, ws.now(), None)
    except IntakeError as exc:
        assert "also" in exc.fields
    else:
        raise AssertionError("an unknown extra category must be refused")
    assert ws.list_cases(CaseQuery(), mask=False) == []
    form["also"] = ["claims", "payments", "payments"]  # the main category and repeats are not copied again
    states = svc.register(ws, form, ws.now(), None)
    assert [s.category for s in states] == ["claims", "payments"]


async def test_a_new_call_starts_empty_and_never_inherits_the_previous_caller(ws, clock) -> None:
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press(*"17011110000")
        await fill(pilot, screen, name="张三", facts="第一位来电人的事实")
        await pilot.press("escape")
        await settle(pilot)
        clock.advance(minutes=2)
        screen = await open_intake(pilot)
        await pilot.press(*"17022220000")
        await settle(pilot)
        assert screen.query_one("#f-phone", Input).value == "17022220000"  # not the old number with this one
        assert screen.query_one("#f-name", Input).value == ""
        assert screen.query_one("#f-facts", TextArea).text == ""
        offer = screen.query_one("#draft-offer", Static)
        assert offer.display and "170****0000" in str(offer.render()) and "恢复上一通未完成登记" in str(offer.render())
        await fill(pilot, screen, name="李四", category="理赔", facts="第二位的事实", request="诉求")
        await pilot.press("ctrl+s")
        await settle(pilot)
    cases = ws.list_cases(CaseQuery(), mask=False)
    assert len(cases) == 1
    assert cases[0]["complainant"]["phone"] == "17022220000" and cases[0]["complainant"]["name"] == "李四"
    assert cases[0]["facts"] == "第二位的事实"
    left = [d for _, d in ws.store.drafts(ws.actor)]
    assert len(left) == 1 and left[0]["form"]["name"] == "张三"  # the first call's draft still waits


async def test_discarding_an_unfinished_intake_is_one_key_and_asks_once(ws, clock) -> None:
    from agent_console.screens.intake import ConfirmDiscard

    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, screen, phone="17011110000", name="张三")
        await pilot.press("escape")
        await settle(pilot)
        screen = await open_intake(pilot)
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDiscard) and "170****0000" in app.screen.text
        await pilot.press("n")  # kept
        await settle(pilot)
        assert len(ws.store.drafts(ws.actor)) == 1
        await pilot.press("ctrl+d", "y")
        await settle(pilot)
        assert app.screen is screen and not screen.query_one("#draft-offer", Static).display
    assert ws.store.drafts(ws.actor) == []


async def test_f2_on_a_registered_intake_starts_the_next_call_empty(ws, clock) -> None:
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        first = await open_intake(pilot)
        await fill(pilot, first, phone="17011110000", name="张三", category="理赔", facts="事实", request="诉求")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert first.number and first.query_one("#f-phone", Input).disabled
        await pilot.press("f2")
        await settle(pilot)
        second = app.screen
        assert isinstance(second, IntakeScreen) and second is not first
        assert second.query_one("#f-phone", Input).value == "" and second.number is None
        assert not second.query_one("#draft-offer", Static).display  # the registered call left no draft


async def test_a_restored_draft_is_typed_on_at_its_end(tmp_path, clock) -> None:
    """After Ctrl+O the cursor sat at the start of the restored phone: the next digits went in front of the number
    ("5" + "17099998888"), a wrong number that still looks like one."""
    ws = make_workspace(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press(*"1709999888")
        await pilot.pause(0.5)
        await pilot.press("escape")
        await settle(pilot)
        screen = await open_intake(pilot)
        await pilot.press(*"13700001111")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert screen.query_one("#f-phone", Input).value == "1709999888"
        await pilot.press("8")  # the caller gives the last digit again
        await pilot.pause(0.5)
        assert screen.query_one("#f-phone", Input).value == "17099998888"
    ws.close()


async def test_keys_typed_ahead_of_a_tab_land_in_the_next_field(tmp_path, clock) -> None:
    """Typed fast (or while the screen was busy) "13600001234<Tab>周八" arrives as one burst: Textual handled Tab
    only after the keys behind it had gone to the phone field ("13600001234周八", the name empty)."""
    from textual import events

    ws = make_workspace(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        burst = [*"13600001234", "tab", "周", "八"]
        for key in burst:  # posted together, as the terminal driver does with one read of several keys
            char = key if len(key) == 1 else None
            app.post_message(events.Key(key if char is None or char.isascii() else char, char))
        await settle(pilot)
        assert screen.query_one("#f-phone", Input).value == "13600001234"
        assert screen.query_one("#f-name", Input).value == "周八"
    ws.close()
