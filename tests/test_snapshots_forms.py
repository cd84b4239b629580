"""Snapshots of every form of the Chinese console at 80x24, each field filled with a long Chinese value.

What they hold: long labels and values stay in their cells (no glyph blanked under a dropdown or the footer, no
line starting with closing punctuation, cut values end on a whole character). One snapshot per distinct form: the
intake (its top and its long text fields), each shape of case action form, the callback form, and the lead's
and the phrase panel's small text dialogs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Checkbox, Input, TextArea

from agent_console.app import AgentConsoleApp
from agent_console.core.lifecycle import CASE_ACTIONS
from agent_console.services.case_actions import FORMS
from agent_console.widgets.plain import Select, SelectionList
from tests.conftest import make_workspace, sample_case
from tests.test_snapshots import no_blink

SIZE = (80, 24)
LONG = ("客户反映：理赔材料已于上月十五日全部交齐，至今三周仍无任何进度，多次致电客服均答复“正在审核中”，"
        "要求本周内给出明确答复并书面说明延误原因，否则将向监管部门投诉。")
LONG_LINE = "客户要求由理赔部负责人亲自回电说明延误原因，并在三个工作日内给出书面答复意见"
PERSON = "欧阳明月（理赔部二组）"

# one case action per distinct form: the others ask the same fields
ACTION_KINDS = [k for i, k in enumerate(CASE_ACTIONS) if FORMS.get(k) and FORMS[k] not in map(FORMS.get, CASE_ACTIONS[:i])]


def build_app(tmp_path, clock, **settings) -> tuple[AgentConsoleApp, str]:
    ws = make_workspace(tmp_path, clock, lang="zh", **settings)
    ws.store.device_code = "SNP"  # case numbers must not depend on a random device id
    case = ws.register(sample_case(facts=LONG, request=LONG_LINE, respondent="理赔部华东区第二理赔中心"))
    return AgentConsoleApp(ws), case.id


def longest(options) -> object:
    return max(options, key=lambda o: len(str(o[0])))[1]


async def fill(pilot, scroll_to: str | None = None) -> None:
    """Every field of the screen on top gets a long Chinese value (selects: the longest option)."""
    screen = pilot.app.screen
    for widget in screen.query(Input):
        if widget.disabled:
            continue
        if widget.type in ("integer", "number"):
            widget.value = "15"
        elif widget.id in ("f-phone",):
            widget.value = "17012345678"
        elif widget.id in ("f-assignee", "f-name"):
            widget.value = PERSON
        elif widget.id == "cb-when":
            widget.value = "明天下午三点"
        elif widget.id == "f-amount":
            widget.value = "1234567.89"
        else:
            widget.value = LONG_LINE
        widget.cursor_position = 0  # the start of the value shows: the same view whatever its length
    for area in screen.query(TextArea):
        area.text = LONG
    for select in screen.query(Select):
        select.value = longest(select._options[1:] if select._allow_blank else select._options)
    for box in screen.query(SelectionList):
        for index in range(min(2, box.option_count)):
            box.select(box.get_option_at_index(index).value)
    for box in screen.query(Checkbox):
        box.value = True
    await no_blink(pilot)
    if scroll_to:
        screen.query_one(scroll_to).focus()
        await no_blink(pilot)
        screen.query_one(scroll_to).scroll_visible(animate=False, top=True)
    await no_blink(pilot)


@pytest.mark.parametrize("part", ["top", "facts"])
def test_intake_form(snap_compare, tmp_path, clock, part) -> None:
    app, _ = build_app(tmp_path, clock)

    async def run_before(pilot) -> None:
        await no_blink(pilot)
        await pilot.press("f2")
        await no_blink(pilot)
        await fill(pilot, None if part == "top" else "#f-facts")
        pilot.app.screen.query_one("#f-category", Input).value = "理赔"
        await no_blink(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("kind", ACTION_KINDS)
def test_action_form(snap_compare, tmp_path, clock, kind) -> None:
    from agent_console.screens.action_forms import ActionForm

    app, case_id = build_app(tmp_path, clock)

    async def run_before(pilot) -> None:
        await no_blink(pilot)
        pilot.app.open_case(case_id)
        await no_blink(pilot)
        pilot.app.push_screen(ActionForm(case_id, kind))
        await no_blink(pilot)
        await fill(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_callback_form(snap_compare, tmp_path, clock) -> None:
    app, case_id = build_app(tmp_path, clock)

    async def run_before(pilot) -> None:
        await no_blink(pilot)
        pilot.app.open_case(case_id)
        await no_blink(pilot)
        await pilot.press("b")
        await no_blink(pilot)
        await fill(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_lead_text_and_approval_dialogs(snap_compare, tmp_path, clock) -> None:
    from agent_console.screens.lead_console import ApprovalDialog

    app, _ = build_app(tmp_path, clock, agent="lead-1", role="lead")
    facts = {"number": "2611-SNP-001", "requester": PERSON, "what": "extension", "detail": LONG, "asked": 15,
             "granted": 10, "due_now": clock() + timedelta(days=3), "due_after": clock() + timedelta(days=24),
             "refusal": None}

    async def run_before(pilot) -> None:
        await no_blink(pilot)
        pilot.app.push_screen(ApprovalDialog(facts, approve=False))
        await no_blink(pilot)
        await fill(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_lead_ask_text(snap_compare, tmp_path, clock) -> None:
    from agent_console.screens.lead_console import AskText

    app, _ = build_app(tmp_path, clock, agent="lead-1", role="lead")

    async def run_before(pilot) -> None:
        await no_blink(pilot)
        pilot.app.push_screen(AskText("将所选案件改派至理赔部华东区第二理赔中心，请说明改派原因（客户可见）"))
        await no_blink(pilot)
        await fill(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_phrase_values_dialog(snap_compare, tmp_path, clock) -> None:
    from agent_console.screens.phrase_panel import AskValues

    app, _ = build_app(tmp_path, clock)

    async def run_before(pilot) -> None:
        await no_blink(pilot)
        pilot.app.push_screen(AskValues(["name", "department", "due"]))
        await no_blink(pilot)
        await fill(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
