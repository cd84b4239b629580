"""Every screen and dialog of the Chinese console, read as a newcomer sees it at 80x24 and 160x48: no English.

Fails on any run of Latin letters not on the allowlist in tests/latin.py, naming the screen and the line.
"""

from __future__ import annotations

import pytest

from agent_console.app import AgentConsoleApp
from agent_console.core.lifecycle import CASE_ACTIONS
from agent_console.services.demo_data import generate
from tests.conftest import make_workspace
from tests.latin import offending_lines
from tests.test_ui_console import settle


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def binding_ids(app) -> set[str]:
    ids: set[str] = set()
    for node in [app, *app.screen_stack]:
        for bindings in node._bindings.key_to_bindings.values():
            ids.update(b.id for b in bindings if b.id)
    return ids


class Reader:
    def __init__(self, app, pilot) -> None:
        self.app, self.pilot, self.found, self.seen = app, pilot, [], []
        self.typed: set[str] = set()  # what the agent typed may of course show

    async def keys(self, *keys: str, pause: float = 0) -> None:
        if all(len(k) == 1 for k in keys):
            self.typed.add("".join(keys))
        for key in keys:
            await self.pilot.press(key)
        await settle(self.pilot)
        if pause:
            await self.pilot.pause(pause)

    async def read(self, where: str) -> None:
        name = f"{where} [{type(self.app.screen).__name__}]"
        self.seen.append(name)
        for line in offending_lines(screen_text(self.app), binding_ids(self.app) | self.typed):
            self.found.append(f"{name}: {line}")

    async def home(self) -> None:
        for _ in range(6):
            if len(self.app.screen_stack) <= 2:
                break
            await self.keys("escape")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_no_english_on_any_zh_screen(tmp_path, clock, size) -> None:
    ws = make_workspace(tmp_path, clock, agent="a-wang", role="lead")
    generate(ws, cases=60, seed=7)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=size) as pilot:
        r = Reader(app, pilot)
        await settle(pilot)
        await r.read("open cases")
        await r.keys("ctrl+p")
        await r.read("command palette")
        await r.keys(*"zzqx", pause=0.8)
        await r.read("command palette, no match")
        await r.keys("escape", "f1")
        await r.read("help")
        await r.keys("escape", "f4")
        await r.read("phrasebook")
        for _ in range(4):
            await r.keys("down")
        await r.read("phrasebook, fourth situation")
        await r.keys("escape", "f3")
        await r.read("phrase panel")
        await r.keys(*"kaichang")
        await r.read("phrase panel, pinyin")
        await r.keys("ctrl+y")
        await r.read("phrase panel, asking for values")
        await r.home()
        await r.keys("f2")
        await r.read("intake")
        await r.keys("ctrl+s")
        await r.read("intake, nothing filled")
        intake = app.screen
        r.typed |= {"kfu", "li"}
        intake.query_one("#f-category").value = "kfu"
        await r.keys("ctrl+s")
        await r.read("intake, unknown category")
        intake.query_one("#f-category").value = "li"
        await settle(pilot)
        await r.read("intake, category type-ahead")
        await r.keys("ctrl+r")
        await r.read("intake, read back")
        await r.home()
        await r.keys("enter")
        await r.read("case detail")
        detail = app.screen
        for kind in CASE_ACTIONS:
            if detail.available.get(kind) is None:
                detail.start_action(kind)
                await settle(pilot)
                await r.read(f"action form {kind}")
                if app.screen is not detail:
                    await r.keys("ctrl+s")
                    await r.read(f"action form {kind}, empty")
                while app.screen is not detail:
                    await r.keys("escape")
        await r.keys("b")
        await r.read("callback form")
        await r.keys(*"xyz")
        await r.read("callback form, not understood")
        await r.home()
        await r.keys("f6")
        await r.read("callback queue")
        await r.keys("enter")
        await r.read("callback call")
        await r.home()
        await r.keys("f7")
        await r.read("lead")
        await r.keys("g")
        await r.read("lead, by department")
        for _ in range(3):
            await r.keys("right")
            await r.read("lead, next tab")
        await r.home()
    ws.close()
    assert len(r.seen) > 20
    assert not r.found, "English on the Chinese console:\n" + "\n".join(dict.fromkeys(r.found))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_intake_footer_keeps_save_read_back_and_leave_at_80_columns(tmp_path, clock, size, lang) -> None:
    ws = make_workspace(tmp_path, clock, agent="a-wang", lang=lang)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
    ws.close()
    keys = {"zh": ("^s 保存登记", "^r 复述确认", "esc 返回"), "en": ("^s Register", "^r Read back", "esc Back")}
    for words in keys[lang]:
        assert words in footer, footer


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_case_list_footer_keeps_f2_and_the_palette_in_sight(tmp_path, clock, size, lang) -> None:
    """At 80 and 120 columns the filters' keys once filled the footer: F2's label (a new call) was cut off."""
    ws = make_workspace(tmp_path, clock, agent="a-wang", lang=lang)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        await pilot.press("w")  # a filter left out of the footer still works on its key
        await settle(pilot)
        horizon = app.screen.filter.horizon
    ws.close()
    words = {"zh": ("f2 新建登记", "/ 搜索", "^p 命令面板"), "en": ("f2 ", "/ ")}[lang]
    for word in words:
        assert word in footer, footer
    assert footer.split("f2 ")[1][:1].strip(), footer  # its label shown, not cut
    assert horizon == "week"


async def test_transfer_form_department_list_shows_every_glyph(tmp_path, clock) -> None:
    """The dropdown over the form's labels once showed 财务部 as '  务部' (widgets/cell_safe.py says why)."""
    from textual.widgets import Select

    from tests.conftest import sample_case

    ws = make_workspace(tmp_path, clock)
    case = ws.register(sample_case())
    labels = [d.label for d in ws.profile.departments]
    app = AgentConsoleApp(ws)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.open_case(case.id)
        await settle(pilot)
        app.screen.start_action("assigned")
        await settle(pilot)
        app.screen.query(Select).first().focus()
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
    ws.close()
    assert all(label in text for label in labels), [label for label in labels if label not in text]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("columns", [80, 70, 60])
async def test_case_list_leaves_out_columns_by_priority_and_never_cuts_a_header(tmp_path, clock, lang, columns) -> None:
    """At 80x24 and narrower the list once showed "Catego…": a header is whole or its column is left out, and the
    columns left out are the least needed ones (which clock first; number, status and time left always stay)."""
    from agent_console.screens.cases import COLUMNS, DROP
    from agent_console.widgets.case_table import CaseTable

    ws = make_workspace(tmp_path, clock, agent="a-wang", lang=lang)
    generate(ws, cases=60, seed=7)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=(columns, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#cases", CaseTable)
        header = table.render_line(0).text
        shown = table.shown_columns
        labels = {col: app.t(f"cols.{col}") for col in COLUMNS}
    ws.close()
    assert "…" not in header, header
    assert header.split() == " ".join(labels[c] for c in shown).split(), header
    assert {"number", "status", "left"} <= set(shown)
    left_out = [c for c in COLUMNS if c not in shown]
    kept_droppable = [DROP[c] for c in shown if c in DROP]
    assert all(DROP[c] > max(kept_droppable, default=0) for c in left_out), (shown, left_out)
    if columns == 80 and lang == "zh":
        assert shown == list(COLUMNS)  # 80 columns hold the whole Chinese list


# every screen with a footer, the keys (actions) its 80-column footer must show whole, and how to get there
FOOTER_SCREENS = [
    ("CasesScreen", (), {"open_case", "focus_search", "new_intake", "phrase_panel"}),
    ("IntakeScreen", ("f2",), {"read_back", "save", "leave", "new_intake", "phrase_panel"}),
    ("CaseDetailScreen", ("escape", "enter"), {"back", "focus_actions", "callback", "new_intake", "phrase_panel"}),
    ("PhrasebookScreen", ("escape", "f4"), {"back", "copy", "search", "new_intake"}),
    ("CallbackQueueScreen", ("escape", "f6"), {"back", "start", "toggle_mine", "new_intake"}),
    ("LeadScreen", ("escape", "f7"), {"back", "open", "reassign", "approve", "refuse", "new_intake"}),
    ("CallLogScreen", ("escape", "f8"), {"back", "open", "new_intake"}),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_footer_at_80x24_shows_its_keys_whole_and_its_essentials(tmp_path, clock, lang) -> None:
    """At 80 columns the case list's footer read "f3 话" and the case screen's "f4 话": the palette key, docked at
    the right, covered what ran under it (issue 15). Each screen's footer shows every key it has whole, inside the
    screen and left of the palette key, and the keys that matter there (save, read back and leave on the intake;
    Enter to open where a table is; F2 for the next call) are among them."""
    from textual.widgets._footer import FooterKey

    ws = make_workspace(tmp_path, clock, agent="a-wang", role="lead", lang=lang)
    generate(ws, cases=30, seed=7)
    app = AgentConsoleApp(ws)
    problems = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for name, keys, essential in FOOTER_SCREENS:
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            assert type(app.screen).__name__ == name, (name, app.screen)
            footer_line = screen_text(app).splitlines()[-1]
            shown = list(app.screen.query(FooterKey))
            palette = [k for k in shown if k.has_class("-command-palette")]
            right = palette[0].region.x if palette else 80
            for k in shown:
                label = f"{k.key_display} {k.description}".strip()
                if label not in footer_line:
                    problems.append(f"{name}: {label!r} cut in {footer_line!r}")
                if k not in palette and k.region.right > right:
                    problems.append(f"{name}: {label!r} runs under the palette key")
            missing = essential - {k.action for k in shown}
            if missing:
                problems.append(f"{name}: {sorted(missing)} not in {footer_line!r}")
    ws.close()
    assert not problems, "\n".join(problems)
