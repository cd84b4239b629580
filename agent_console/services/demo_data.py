"""Realistic demo data made of ordinary events: every state, category, channel and clock state.

Names and numbers are fictitious (phone numbers use the 170/171 virtual-operator ranges). Every event is written by
the configured agent on this device, as real work would be, so demo data syncs like anything else; a fair share of
the cases is owned by that agent, the rest by colleagues in the same team.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
from collections import deque
from datetime import datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterator

from agent_console.core import plausibility
from agent_console.core.events import Event, make_event, new_id
from agent_console.core.new_case import IntakeError
from agent_console.core.wire import built_event
from agent_console.core.calendar import reach_recorded
from agent_console.store.local import PreparedCase, cyclic_gc_paused, new_span, prepare_cases, widen
from agent_console.core.lifecycle import IllegalTransition
from agent_console.core.models import CaseState

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文斌宇浩然欣怡子涵梓萱雨桐一诺俊杰"
COLLEAGUES = ["a-chen", "a-liu", "a-zhou", "a-sun"]

# (category, facts, request) in the insurance profile's categories; other profiles fall back to their own ids
STORIES: dict[str, list[tuple[str, str]]] = {
    "claims": [
        ("住院理赔材料三周前已交齐，至今没有进度，多次来电都说在审核。", "尽快完成理赔并说明拖延原因"),
        ("车险定损金额比修理厂报价低了四千元，认为定损员没有看清损失。", "重新定损，按实际维修费用赔付"),
        ("重疾理赔被拒，理由是既往症未告知，客户称投保时已如实说明。", "复核拒赔结论，出具书面说明"),
    ],
    "sales_service": [
        ("业务员离职后保单无人跟进，续期提醒一直没有收到。", "指定新的服务人员并补发续期通知"),
        ("业务员上门时态度强硬，反复要求加保。", "更换服务人员并道歉"),
    ],
    "sales_solicitation": [
        ("购买时被告知是存款产品，一年后才发现是分红险，退保损失很大。", "全额退还保费"),
    ],
    "servicing": [
        ("申请变更受益人两周未办结，柜面说系统在审批。", "尽快办结保全变更"),
        ("部分领取申请被退回三次，每次要求的材料都不一样。", "一次性告知所需材料并加快办理"),
    ],
    "payments": [
        ("同一期保费被重复扣款两次，银行流水可以证明。", "退还多扣的保费"),
        ("理赔款到账金额与通知书不一致，少了八百元。", "核对并补足差额"),
    ],
    "notifications": [
        ("保单到期没有收到任何短信或信件提醒，导致保单失效。", "恢复保单效力，免除滞纳利息"),
    ],
    "system": [
        ("手机应用提交理赔时一直报错，无法上传发票照片。", "修复问题并延长提交期限"),
        ("官网查询保单显示的现金价值与纸质保单不符。", "核实正确数值并修正系统"),
    ],
    "call_center": [
        ("热线排队四十分钟无人接听，转人工后又被挂断。", "回电处理原问题并改进接听"),
    ],
    "counter": [
        ("柜面人员办理业务时一直玩手机，态度冷淡。", "对相关人员批评教育并道歉"),
    ],
    "underwriting": [
        ("体检报告正常却被加费承保，没有给出理由。", "说明加费依据或取消加费"),
    ],
    "product": [
        ("条款里的等待期和宣传页说法不一致。", "按宣传页标准执行"),
    ],
    "value_added": [
        ("增值服务卡的免费体检预约不上，客服说名额已满。", "安排体检或折现补偿"),
    ],
    "other": [
        ("营业厅门口停车位被占，老人办理业务很不方便。", "改善服务设施"),
    ],
}
RESPONDENTS = ["理赔部 王经理", "业务员 张某", "柜面 3 号窗口", "热线中心", "运营部", "定损员 李某", "", ""]
CHANNEL_WEIGHTS = [("phone", 55), ("visit", 8), ("letter", 6), ("email", 10), ("web", 8), ("sms", 3),
                   ("forwarded", 4), ("regulator", 4), ("media", 2)]


def _phone(rng: random.Random) -> str:
    return f"17{rng.choice('01')}{rng.randint(0, 99999999):08d}"


def _name(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return name, rng.choice(["先生", "女士"])


def _working_instant(ws: Workspace, rng: random.Random, days_ago: float) -> datetime:
    now = ws.now().astimezone(ws.tz)
    day = (now - timedelta(days=days_ago)).date()
    while not ws.calendar.is_working_day(day):
        day -= timedelta(days=1)
    at = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), ws.tz)
    return min(at, now - timedelta(minutes=5))


class Registrations:
    """The registration events of demo cases, as Workspace.registration_events makes them (NewCase, normalise,
    make_event: the console's own path), at a tenth of its cost.

    The stories draw each field from a short list; only the caller (name, phone, ID number) and the receipt time
    differ from case to case. So the path runs for the first case, and once more for each other value a story
    field takes (the first case with that one field changed): what that value changes in the events is kept. A
    case's events are the first case's with the changes of its story fields and its own caller and time, which
    are checked by the path's plausibility rules (plausibility.check_case) and copied as the path copies plain
    letters and digits. Anything else (a value the path refuses, two fields changing the same thing, a caller with
    other characters) goes through the path itself. Every `check_every`-th case is made both ways and compared:
    a difference is a bug here and stops the demo (DemoMismatch) rather than store a case the path would not.
    """

    def __init__(self, ws: Workspace, check_every: int = 500) -> None:
        self.ws = ws
        self.check_every = check_every
        self.made = 0
        self.compared = 0  # cases made both ways and found the same
        # the first case: its fields, its registration payload, its follow-up events (kind, payload), its time
        self._base: tuple[dict[str, Any], dict[str, Any], list[tuple[str, dict[str, Any]]], datetime] | None = None
        self._changes: dict[tuple[str, str], Any] = {}  # (field, repr(value)) -> (changes, follow-ups) | None

    def events(self, new: dict[str, Any], received: datetime) -> list[Event]:
        """The registration events of `new` (a demo case, received_at the ISO text of `received`) at `received`."""
        ws = self.ws
        self.made += 1
        if self._base is None:
            real = ws.registration_events(new, at=received)
            flat = _flat(real[0].payload)
            if flat.get("received_at") == received.isoformat() and all(
                    str(flat.get(f"complainant.{k}")) == new["complainant"][k] for k in _CALLER):
                self._base = (new, real[0].payload, [(e.kind, e.payload) for e in real[1:]], received)
            return real
        fast = self._put_together(new, received)
        if fast is None or self.made % self.check_every == 0:
            real = ws.registration_events(new, at=received)
            if fast is not None:
                if [_comparable(e) for e in fast] != [_comparable(e) for e in real]:
                    raise DemoMismatch(new, [_comparable(e) for e in fast], [_comparable(e) for e in real])
                self.compared += 1
            return real
        return fast

    def _put_together(self, new: dict[str, Any], received: datetime) -> list[Event] | None:
        assert self._base is not None
        base_new, base_payload, base_follow, _ = self._base
        ws = self.ws
        caller = new["complainant"]
        name, phone, id_number = caller["name"], caller["phone"], caller["id_number"]
        if not (name.isalnum() and phone.isalnum() and id_number.isalnum()) or received.microsecond \
                or new.get("received_at") != received.isoformat() \
                or new.keys() != base_new.keys() or caller.keys() != base_new["complainant"].keys():
            return None
        if plausibility.check_case(received, phone, name, id_number, None, ws.now(), ws.profile.intake):
            return None  # refused: the path says why
        changes: dict[str, Any] = {}
        follow = base_follow
        for field in _STORY_FIELDS:
            value = caller.get("title") if field == "complainant.title" else new[field]
            if value == (base_new["complainant"].get("title") if field == "complainant.title" else base_new[field]):
                continue
            key = (field, repr(value))
            if key not in self._changes:
                self._changes[key] = self._change_of(field, value)
            change = self._changes[key]
            if change is None or changes.keys() & change[0].keys() or (change[1] is not None and follow is not base_follow):
                return None
            changes.update(change[0])
            if change[1] is not None:
                follow = change[1]
        changes.update({"received_at": received.isoformat(), "complainant.name": name, "complainant.phone": phone,
                        "complainant.id_number": id_number})
        payload = dict(base_payload)
        person = payload["complainant"] = dict(base_payload["complainant"])
        for k, v in changes.items():
            if k.startswith("complainant."):
                person[k[12:]] = v
            else:
                payload[k] = v
        case_id = new_id()
        at = received.astimezone(timezone.utc)
        actor, device = ws.actor, ws.store.device_id
        return [built_event(new_id(), case_id, kind, actor, device, at, "", p, [])
                for kind, p in [("registered", payload), *follow]]

    def _change_of(self, field: str, value: Any) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]] | None] | None:
        """What one story field's value changes in the first case's events (payload fields, follow-up events),
        by the path itself; None when the path refuses it."""
        assert self._base is not None
        base_new, base_payload, base_follow, base_received = self._base
        if field == "complainant.title":
            varied = {**base_new, "complainant": {**base_new["complainant"], "title": value}}
        else:
            varied = {**base_new, field: value}
        try:
            real = self.ws.registration_events(varied, at=base_received)
        except (IntakeError, ValueError):
            return None
        base, now = _flat(base_payload), _flat(real[0].payload)
        if base.keys() != now.keys():
            return None
        follow = [(e.kind, e.payload) for e in real[1:]]
        return {k: v for k, v in now.items() if v != base[k]}, (None if follow == base_follow else follow)


class DemoMismatch(AssertionError):
    """The demo's quick registration differs from the console's own path (a bug in Registrations)."""


_CALLER = ("name", "phone", "id_number")
_STORY_FIELDS = ("channel", "category", "complexity", "respondent", "facts", "request", "amount", "flags", "owner",
                 "complainant.title")


def _flat(payload: dict[str, Any]) -> dict[str, Any]:
    """A registration payload with its complainant's fields beside the others ("complainant.name")."""
    out = {k: v for k, v in payload.items() if k != "complainant"}
    out.update({f"complainant.{k}": v for k, v in (payload.get("complainant") or {}).items()})
    return out


def _comparable(e: Event) -> tuple[Any, ...]:
    """An event without its id (and case id): what two ways of making the same registration must agree on; the
    payload as stored text (key order included)."""
    return (e.kind, e.actor, e.device, e.at, e.hlc, json.dumps(e.payload, ensure_ascii=False, default=str), e.flags)


def generate(ws: Workspace, cases: int = 300, seed: int = 1, history_days: int = 60,
             progress: Callable[[int, int], None] | None = None, workers: int | None = None) -> dict[str, int]:
    """Add `cases` demo cases to the workspace's store; return how many landed in each status.

    history_days spreads cases further back (a benchmark's year of work); older cases are nearly all finished.
    Cases are made _BATCH at a time: each story is played on one state changed in place (the fold is done once,
    as the story goes), and each batch is stored at once (store.append_cases: numbered and stamped in its
    transaction, one statement per table, projections included), in bulk-load mode (demo data can be made again).
    Big runs make their batches in `workers` processes (default: two from _PARALLEL_FROM cases on) while this one
    stores them, so a million cases take minutes; the same seed gives the same stories whatever the number of
    workers (each batch has its own random stream; the first is the seed's own). `progress(done, total)` after
    each stored batch.
    """
    rng = random.Random(seed)
    phones = [_phone(rng) for _ in range(max(cases // 4, 5))]  # repeat callers: a phone may have several cases
    sizes = [min(_BATCH, cases - start) for start in range(0, cases, _BATCH)]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if cases >= _PARALLEL_FROM else 1
    counts: dict[str, int] = {}
    done = 0
    with ws.store.bulk_load(coming=cases):
        for prepared, made in _batches(ws, rng, seed, sizes, phones, history_days, workers):
            with cyclic_gc_paused():  # a batch's objects hold no cycles: no walking the heap while they live
                ws.store.append_prepared(prepared, durable=False)
            for status, n in made.items():
                counts[status] = counts.get(status, 0) + n
            done += len(prepared)
            if progress is not None:
                progress(done, cases)
    if progress is not None and not sizes:
        progress(0, 0)
    return counts


_BATCH = 2000  # cases per batch (and per transaction)
_PARALLEL_FROM = 20_000  # cases from which batches are made in worker processes by default
_Batch = tuple[list[PreparedCase], dict[str, int]]


def _batches(ws: Workspace, rng: random.Random, seed: int, sizes: list[int], phones: list[str], history_days: int,
             workers: int) -> Iterator[_Batch]:
    """The batches in order, made here or by forked worker processes (at most two batches ahead of the store)."""
    def stream(k: int) -> random.Random:
        return rng if k == 0 else random.Random(f"{seed}:{k}")

    if workers <= 1 or len(sizes) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        registrations = Registrations(ws)
        for k, size in enumerate(sizes):
            yield _make_batch(ws, stream(k), size, phones, history_days, registrations)
        return
    from concurrent.futures import ProcessPoolExecutor

    global _FORKED
    _FORKED = (ws, rng, seed, phones, history_days)  # what a forked worker inherits (nothing is pickled in)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            ahead: deque[Any] = deque()
            for k, size in enumerate(sizes):
                ahead.append(pool.submit(_make_in_worker, k, size))
                if len(ahead) > workers + 1:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()
    finally:
        _FORKED = None


_FORKED: tuple[Any, ...] | None = None


_REGISTRATIONS: Registrations | None = None  # a worker's own, kept from batch to batch


def _make_in_worker(k: int, size: int) -> _Batch:
    global _REGISTRATIONS
    assert _FORKED is not None
    ws, rng, seed, phones, history_days = _FORKED
    if _REGISTRATIONS is None or _REGISTRATIONS.ws is not ws:
        _REGISTRATIONS = Registrations(ws)
    return _make_batch(ws, rng if k == 0 else random.Random(f"{seed}:{k}"), size, phones, history_days,
                       _REGISTRATIONS)


def _make_batch(ws: Workspace, rng: random.Random, cases: int, phones: list[str], history_days: int,
                registrations: Registrations | None = None) -> _Batch:
    """`cases` stories as rows ready to store (store.prepare_cases: each case's events, not stamped or numbered
    yet, and the projection of the state they fold to), and the count by status. The cycle collector waits until
    the batch is made: its tens of thousands of objects live until then and hold no cycles (an eighth of the time
    went to walking them again and again)."""
    with cyclic_gc_paused():
        return _made_batch(ws, rng, cases, phones, history_days, registrations)


def _made_batch(ws: Workspace, rng: random.Random, cases: int, phones: list[str], history_days: int,
                registrations: Registrations | None) -> _Batch:
    profile = ws.profile
    categories = [c.id for c in profile.categories]
    by_id = {c.id: c for c in reversed(profile.categories)}  # profile.category(id) (the first), without its scan
    owners = [ws.actor] * 2 + COLLEAGUES
    batch: list[list[Event]] = []
    states: list[CaseState] = []
    spans: list[list[int]] = []  # the days each story's fold counted over (case_reach, as `append` records it)
    counts: dict[str, int] = {}
    resolve = profile.resolve_clock
    checked: dict[str, dict[str, Any]] = {}  # a payload text -> its validated form: the stories repeat their words
    device = ws.store.device_id
    registrations = registrations or Registrations(ws)

    def made(kind: str, payload: dict[str, Any] | None, at: datetime) -> Event:
        """ws.event(kind, case_id, payload, at), each distinct payload validated once (make_event's check)."""
        key = kind + repr(payload)  # the stories build their payloads in one order: equal text, equal payload
        typed = checked.get(key)
        if typed is None:
            typed = checked[key] = make_event(kind, case_id, ws.actor, device, at, payload).payload
        return built_event(new_id(), case_id, kind, ws.actor, device, at.astimezone(timezone.utc), "", typed, [])

    for i in range(cases):
        category = rng.choice(categories)
        facts, request = rng.choice(STORIES.get(category) or [("客户对处理结果不满意。", "给出明确答复")])
        tier = _pick(rng, _TIERS)
        age = rng.choices([rng.uniform(0, 1), rng.uniform(1, 6), rng.uniform(6, 25), rng.uniform(25, 60)],
                          cum_weights=_AGE_WEIGHTS)[0]
        if history_days > 60 and rng.random() < 1 - 60 / history_days:
            age = rng.uniform(60, history_days)
        received = _working_instant(ws, rng, age)
        name, title = _name(rng)
        owner = rng.choice(owners)
        new = {
            "received_at": received.isoformat(),
            "channel": _pick(rng, _CHANNELS),
            "category": category,
            "complexity": tier,
            "complainant": {"name": name, "title": title, "phone": rng.choice(phones),
                            "id_number": f"P{rng.randint(10**11, 10**12 - 1)}"},
            "respondent": rng.choice(RESPONDENTS),
            "facts": facts,
            "request": request,
            "amount": rng.choice([None, None, 800, 2400, 4000, 15000, 52000]),
            "flags": rng.sample(["media", "regulator", "repeat", "escalation_risk"], k=rng.choice([0, 0, 0, 1])),
            "owner": owner,
        }
        events = registrations.events(new, received)
        case_id = events[0].case_id
        state = None
        span = new_span()
        for e in events:
            with reach_recorded() as days:
                state = ws.lifecycle.advance(state, e)
            widen(span, days)
        t = received
        plan = _plan(rng, age, tier)

        def step(kind: str, payload: dict[str, Any] | None = None, gap_h: float = 3.0) -> None:
            nonlocal t, state
            t = min(t + timedelta(hours=rng.uniform(0.3, gap_h)), ws.now() - timedelta(minutes=1))
            e = made(kind, payload, t)
            try:
                with reach_recorded() as days:
                    state = ws.lifecycle.advance(state, e)  # refused before anything changes
            except IllegalTransition:
                return  # (not in the history: what its check looked at is not the fold's)
            widen(span, days)
            events.append(e)

        if state.status in ("registered", "parked") and plan != "registered":
            step("accepted", {"note": "来函已核实，受理"}, 6)
        step("read_back", {"summary": "已向客户复述诉求并确认"}, 0.2) if rng.random() < 0.8 else None
        if plan in ("assigned", "investigating", "proposed", "replied", "closed", "archived", "paused", "extension"):
            cat = by_id.get(category)
            step("assigned", {"department": cat.department if cat else "", "assignee": ""}, 4)
        if plan in ("investigating", "proposed", "replied", "closed", "archived", "paused", "extension"):
            step("progress_noted", {"note": "承办部门已调取材料，正在核实"}, 20)
        if plan == "paused":
            step("paused", {"reason": "客户出差，要求下周再联系", "evidence": f"通话录音 REC-{rng.randint(1000, 9999)}"}, 10)
        if plan == "extension" and resolve is not None and resolve.extendable and profile.extension_ceiling:
            step("extension_requested", {"length": min(5, profile.extension_ceiling), "reason": "需调取外部医院病历"}, 8)
        if plan in ("proposed", "replied", "closed", "archived"):
            step("proposed", {"remedy": "补发理赔款并书面致歉", "amount": "800", "non_standard": plan == "proposed" and rng.random() < 0.3}, 20)
        if plan in ("replied", "closed", "archived"):
            step("replied", {"text": "已电话告知处理结果", "via": "phone"}, 6)
        if plan in ("closed", "archived"):
            cat = by_id.get(category)
            step("closed", {
                "outcome": rng.choice(["at_fault", "not_at_fault", "not_at_fault", "litigation"]),
                "causes": [rng.choice(["process_delay", "staff_attitude", "communication", "amount_dispute"])],
                "stage": rng.choice(["claims", "customer_service", "sales", "servicing"]),
                "report": "经核实，已按约定处理完毕并告知客户。",
                "fault_description": "上传接口超时，已修复" if cat and cat.needs_fault_description else "",
            }, 30)
        if plan == "archived":
            step("archived", {"note": ""}, 48)
        if plan == "not_accepted":
            step("info_requested", {"reason": "缺少保单号"}, 2) if rng.random() < 0.3 else None
            step("not_accepted", {"reason": "已进入诉讼程序，不属于投诉受理范围"}, 5)
        if plan == "ladder" and profile.ladder.enabled:
            upset = t - timedelta(minutes=rng.randint(5, 9))
            step("dissatisfaction_reported", {"upset_since": upset.isoformat(), "note": "客户情绪激动，要求见领导"}, 0.1)
        batch.append(events)
        states.append(state)
        spans.append(span)
        counts[state.status] = counts.get(state.status, 0) + 1
    return prepare_cases(batch, states, ws.tz, spans), counts


def _weighted(population: list[str], weights: list[int]) -> tuple[list[str], list[int]]:
    """A population and its cumulative weights: what rng.choices works out from the weights on every call."""
    return population, list(itertools.accumulate(weights))


def _pick(rng: random.Random, table: tuple[list[str], list[int]]) -> str:
    """rng.choices(population, weights)[0]: the same draw from the same random stream (the same stories)."""
    return rng.choices(table[0], cum_weights=table[1])[0]


_TIERS = _weighted(["general", "complex", "major"], [60, 32, 8])
_AGE_WEIGHTS = list(itertools.accumulate([25, 35, 25, 15]))
_CHANNELS = _weighted([c for c, _ in CHANNEL_WEIGHTS], [w for _, w in CHANNEL_WEIGHTS])
_PLANS = [  # (age below, where cases of that age end up)
    (1, _weighted(["registered", "accepted", "assigned", "ladder"], [10, 50, 30, 10])),
    (6, _weighted(["accepted", "assigned", "investigating", "proposed", "replied", "closed", "paused", "extension",
                   "not_accepted"], [10, 15, 20, 8, 7, 25, 6, 5, 4])),
    (25, _weighted(["investigating", "proposed", "closed", "archived", "paused", "extension"], [18, 5, 50, 17, 5, 5])),
    (60, _weighted(["closed", "archived", "investigating"], [40, 55, 5])),
    (float("inf"), _weighted(["closed", "archived", "investigating"], [10, 89, 1])),
]


def _plan(rng: random.Random, age: float, tier: str) -> str:
    """Where a demo case of this age ends up: older cases are mostly finished, some left overdue on purpose."""
    return _pick(rng, next(table for below, table in _PLANS if age < below))


def mark_seeded(ws: Workspace) -> None:
    """Remember that demo data was added, so a first start never adds it again."""
    ws.store.set_meta("seeded", "1")


def seed_first_run(ws: Workspace) -> None:
    """Demo data the first time a console opens on an empty database, so a newcomer never sees an empty screen."""
    if not ws.settings.demo_on_first_run or ws.read_only or ws.store.meta("seeded") is not None:
        return
    if ws.count_cases() == 0:
        generate(ws, cases=300, seed=7)
    mark_seeded(ws)
