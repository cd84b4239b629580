"""Plausibility at every door: the same rules and messages for the intake screen, `case new`, `import`, enquiries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from agent_console.core.new_case import IntakeError
from agent_console.core.plausibility import check_amount, check_phone, check_received
from tests.conftest import sample_case
from tests.test_cli import NEW, run

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=8)))
LONG_PHONE = "1" * 5_000


@pytest.mark.parametrize("year", ["0001", "1900", "2100", "9999"])
def test_implausible_years_are_a_message_from_case_new(capsys, monkeypatch, tmp_path, year) -> None:
    case = dict(NEW, received_at=f"{year}-01-01T10:00:00+08:00")
    code, out, err = run(capsys, "--db", str(tmp_path / "p.db"), "case", "new", stdin=json.dumps(case),
                         monkeypatch=monkeypatch)
    assert code == 2 and out == "" and "Traceback" not in err and "受理时间" in err and "请核对" in err
    code, out, err = run(capsys, "--db", str(tmp_path / "p.db"), "--lang", "en", "case", "new",
                         stdin=json.dumps(case), monkeypatch=monkeypatch)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "received_at" in err and ("check the year" in err or "in the future" in err)


def test_extreme_offsets_never_raise() -> None:
    for when in (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
                 datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12)))):
        assert check_received(when, NOW)


@given(st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=14)),
                                               timezone(timedelta(hours=-12))])))
def test_any_receipt_time_gets_an_answer_not_an_exception(when) -> None:
    why = check_received(when, NOW)
    assert (why is None) == (NOW - timedelta(days=730) <= when <= NOW + timedelta(minutes=10))


def test_amounts_and_phones_within_sane_bounds() -> None:
    assert check_amount(Decimal("1e308")) and check_amount(float("inf")) and check_amount(Decimal("NaN"))
    assert check_amount(Decimal("-1")) and check_amount(Decimal("12.345"))
    assert check_amount(Decimal("120.50")) is None and check_amount(Decimal("999999999")) is None
    assert check_phone(LONG_PHONE) and check_phone("1234") and check_phone("call me maybe 1234567")
    assert check_phone("+86 170-1234-5678") is None and check_phone("021-5555 6666 x 12") is None


def _door_messages(capsys, monkeypatch, tmp_path, ws, **bad) -> dict[str, str]:
    """The message each door gives for the same bad case."""
    case = json.loads(json.dumps(NEW))
    if "phone" in bad:
        case["complainant"]["phone"] = bad["phone"]
    if "amount" in bad:
        case["amount"] = bad["amount"]
    code, _, err = run(capsys, "--db", str(tmp_path / "d.db"), "--lang", "en", "case", "new",
                       stdin=json.dumps(case), monkeypatch=monkeypatch)
    assert code == 2
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "import", str(path), "--json", "--db", str(tmp_path / "d.db"))
    result = json.loads(out)
    assert code == 1 and result["imported"] == []
    with pytest.raises(IntakeError) as screen:
        from agent_console.services import live_intake

        live_intake.register(ws, {"phone": case["complainant"]["phone"], "name": "李雷", "category": "claims",
                                  "facts": "f", "request": "r", "amount": str(case.get("amount") or "")},
                             ws.now(), None)
    return {"case new": err.split("case new: ", 1)[1].strip(), "import": result["errors"][0].split(":1: ", 1)[1],
            "screen": "; ".join(f"{k}: {v}" for k, v in screen.value.fields.items())}


def test_a_5000_digit_phone_is_refused_alike_at_every_door(capsys, monkeypatch, tmp_path, ws) -> None:
    said = _door_messages(capsys, monkeypatch, tmp_path, ws, phone=LONG_PHONE)
    assert set(said.values()) == {"complainant.phone: a phone number has at most 20 digits (5,000 given)"}, said
    with pytest.raises(IntakeError) as enquiry:
        ws.record_enquiry(LONG_PHONE, "李雷", "问保单", "已答复", "咨询")
    assert enquiry.value.fields == {"complainant.phone": "a phone number has at most 20 digits (5,000 given)"}


def test_an_amount_of_1e308_is_refused_alike_at_every_door(capsys, monkeypatch, tmp_path, ws) -> None:
    said = _door_messages(capsys, monkeypatch, tmp_path, ws, amount="1e308")
    assert len(set(said.values())) == 1 and "largest plausible amount" in said["screen"], said


def test_a_case_received_today_or_last_year_is_fine(ws, clock) -> None:
    assert ws.register(sample_case(received_at=clock() - timedelta(days=400))).number
    assert ws.register(sample_case(received_at=clock() + timedelta(minutes=5))).number
