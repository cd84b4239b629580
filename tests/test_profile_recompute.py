"""A case keeps the profile it was registered under -- the organisation's overrides included -- when another
profile's console recomputes it (a new calendar) or rebuilds it; each profile's cases follow that profile's own
changes."""

from __future__ import annotations

from tests.conftest import make_workspace, sample_case


def test_each_case_is_recomputed_under_the_profile_it_was_registered_under(tmp_path, clock) -> None:
    seven = {"clocks": {"resolve": {"length": {"general": 7}}}}
    insurance = make_workspace(tmp_path, clock, name="shared.db", profile_overrides=seven)
    a = insurance.register(sample_case())
    assert a.profile == "insurance"
    assert a.clocks["resolve"].due == insurance.calendar.add_working_days(a.received_at, 7)
    insurance.close()

    power = make_workspace(tmp_path, clock, name="shared.db", profile="power-hotline")  # general: 5
    b = power.register(sample_case(category=power.profile.categories[0].id))
    assert power.case(a.id).clocks["resolve"].due == power.calendar.add_working_days(a.received_at, 7)
    power.close()

    # the team's closures change; a console of the other profile recomputes every open case
    closures = tmp_path / "closures.toml"
    closures.write_text('[[closed]]\ndate = 2026-11-25\nnote = "团建"\n', encoding="utf-8")
    power = make_workspace(tmp_path, clock, name="shared.db", profile="power-hotline", calendar_file=closures)
    assert power.stale_reasons == ["calendar"]
    report = power.recompute_deadlines()
    assert report.cases == 2
    cal = power.calendar
    assert power.case(a.id).clocks["resolve"].due == cal.add_working_days(a.received_at, 7)  # insurance's, overridden
    assert power.case(b.id).clocks["resolve"].due == cal.add_working_days(b.received_at, 5)
    before = {cid: power.case(cid).model_dump() for cid in (a.id, b.id)}
    assert power.rebuild() == []  # rebuild folds each case under its own profile too
    assert {cid: power.case(cid).model_dump() for cid in (a.id, b.id)} == before
    power.close()

    # insurance's override changes: its cases move, the power case stays as its own profile says
    nine = {"clocks": {"resolve": {"length": {"general": 9}}}}
    insurance = make_workspace(tmp_path, clock, name="shared.db", profile_overrides=nine, calendar_file=closures)
    assert insurance.stale_reasons == ["profile"]
    insurance.recompute_deadlines()
    assert insurance.case(a.id).clocks["resolve"].due == cal.add_working_days(a.received_at, 9)
    assert insurance.case(b.id).clocks["resolve"].due == cal.add_working_days(b.received_at, 5)
    insurance.close()
