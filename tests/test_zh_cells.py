"""CJK-correct cells: widths, truncation with "…", Chinese line-breaking, bars and columns lined up (issue 15)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from agent_console.core import cells

CLOSING = "，。、；：？！）》」%"
TEXT = st.text(alphabet=st.sampled_from(list("我们已经收到您的投诉理赔部会联系abc 12-9MB") + list(CLOSING) + list("（《「")),
               max_size=80)


def test_width_counts_chinese_as_two() -> None:
    assert cells.width("理赔部") == 6 and cells.width("ab理") == 4 and cells.width("") == 0


def test_truncate_cuts_at_a_character_with_an_ellipsis() -> None:
    assert cells.truncate("车险定损金额偏低，客户要求重新评估", 15) == "车险定损金额偏…"
    assert cells.width(cells.truncate("车险定损金额偏低", 6)) <= 6
    assert cells.truncate("短", 10) == "短"


def test_fit_pads_by_cells() -> None:
    assert cells.fit("理赔", 6) == "理赔  " and cells.fit("claims", 6) == "claims"


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=4, max_value=30))
def test_wrap_never_opens_a_line_with_closing_punctuation(text, columns) -> None:
    lines = cells.wrap(text, columns)
    for i, line in enumerate(lines):
        if i:
            assert line[:1] not in CLOSING, (text, columns, lines)
        assert line[-1:] not in "（《「" or i == len(lines) - 1 or cells.width(line) <= 2, (text, columns, lines)
    assert "".join(lines).replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_wrap_keeps_a_case_number_whole() -> None:
    text = "丁先生您好，我是寿险客户服务的回访专员，想了解一下您对2610-9MB-003号投诉处理的看法。"
    for columns in range(20, 60):
        assert any("2610-9MB-003" in line for line in cells.wrap(text, columns)), columns
        assert all(cells.width(line) <= columns for line in cells.wrap(text, columns))


async def test_kpi_bars_start_in_one_column(tmp_path, clock) -> None:
    from agent_console.app import AgentConsoleApp
    from agent_console.services.demo_data import generate
    from tests.conftest import make_workspace
    from tests.test_ui_console import settle

    ws = make_workspace(tmp_path, clock, agent="a-wang", role="lead")
    generate(ws, cases=80, seed=7)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        for _ in range(3):
            await pilot.press("right")
            await settle(pilot)
        text = str(app.screen.query_one("#kpi-bars").render())
    ws.close()
    bars = [line for line in text.splitlines() if "█" in line]
    assert len(bars) >= 3
    # the column (in terminal cells) where each bar starts: one for all, whatever the labels' widths
    starts = {cells.width(line[:line.index("█")]) for line in bars}
    assert len(starts) == 1, bars
