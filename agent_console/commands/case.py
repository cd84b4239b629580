"""`agent-console case new|show|list`: register a case from JSON on stdin, show one, list many."""

from __future__ import annotations

import argparse
from datetime import datetime
import sys
from typing import Any

from pydantic import ValidationError

from agent_console.support.i18n import Translator
from agent_console.commands.common import (CliError, load_json, open_workspace, parse_duration, print_json,
                                            read_stdin, require_case)
from agent_console.core.errors import Said, field_label, validation_problem
from agent_console.core.new_case import IntakeError
from agent_console.core.case_query import CaseQuery
from agent_console.core.clocks import nearest_deadline


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    case = sub.add_parser("case", help="register, show and list cases", parents=[common])
    case_sub = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)

    new = case_sub.add_parser("new", help="register one case read as JSON from stdin", parents=[common])
    new.set_defaults(func=cmd_new)

    show = case_sub.add_parser("show", help="show one case", parents=[common])
    show.add_argument("number", help="case number (or id)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--events", action="store_true", help="include the event history")
    show.set_defaults(func=cmd_show)

    act = case_sub.add_parser(
        "act", help="record one action on a case, as the case screen would (same rules, same messages)",
        parents=[common],
        description="Fields are given as --NAME VALUE (e.g. --outcome at_fault --causes process_delay,communication "
                    "--stage claims --report '已处理'); `case act NUMBER ACTION --help-fields` lists an action's fields.")
    act.add_argument("number", help="case number (or id)")
    act.add_argument("action", help="accepted, assigned, closed, paused, extension_requested, …")
    act.add_argument("--json", action="store_true", help="print the case as JSON afterwards")
    act.add_argument("--help-fields", action="store_true", help="list the fields this action asks for")
    act.set_defaults(func=cmd_act, wants_fields=True)

    ls = case_sub.add_parser("list", help="list cases", parents=[common])
    ls.add_argument("--mine", action="store_true", help="only cases I own")
    ls.add_argument("--open", action="store_true", help="only open cases")
    ls.add_argument("--overdue", action="store_true", help="only cases with a clock past due")
    ls.add_argument("--due-within", metavar="DURATION", help="nearest clock due within e.g. 2d, 12h (overdue included)")
    ls.add_argument("--status")
    ls.add_argument("--category")
    ls.add_argument("--search", metavar="TEXT", help="full-text search (number, name, phone, facts)")
    ls.add_argument("--limit", type=int)
    ls.add_argument("--unmask", action="store_true", help="show full phone and ID numbers (team leads only)")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=cmd_list)


def read_new_case(text: str) -> dict[str, Any]:
    if not text.strip():
        raise CliError("cli.case_new_empty")
    data = load_json(text, "case new")
    if not isinstance(data, dict):
        raise CliError("cli.case_new_not_object")
    return data


def validation_problems(exc: ValidationError | IntakeError) -> list[Said]:
    """Each bad field as "field: what is wrong", said by key (the field's name and the problem are translated)."""
    if isinstance(exc, IntakeError):
        return [Said("cli.field_problem", field=field_name(k), problem=v) for k, v in exc.fields.items()]
    out = []
    for e in exc.errors():
        name = ".".join(str(p) for p in e["loc"])
        out.append(Said("cli.field_problem", field=field_name(name or "case"), problem=validation_problem(e)))
    return out


field_name = field_label  # a field of `case new`'s JSON in the console's language

def cmd_new(args: argparse.Namespace) -> int:
    data = read_new_case(read_stdin("case new"))
    ws = open_workspace(args)
    try:
        state = ws.register(data)
    except (ValidationError, IntakeError) as exc:
        raise CliError("cli.case_new_invalid", problems=validation_problems(exc)) from exc
    finally:
        ws.close()
    ws2 = open_workspace(args)
    print_json(ws2.case_dict(state))
    ws2.close()
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        state = require_case(ws, args.number)
        data = ws.case_dict(state)
        if args.events:
            data["events"] = [e.model_dump(mode="json") for e in ws.timeline(state.id)]
        if args.json:
            print_json(data)
        else:
            print(_human_case(ws, data))
            if args.events:  # the timeline as the case screen shows it (corrections with old -> new)
                from agent_console.services import timeline

                for when, who, what in timeline.lines(ws, Translator(ws.settings.lang), state.id):
                    print(f"  {when}  {who:<10} {what}")
    finally:
        ws.close()
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        if args.unmask and not ws.is_lead:
            raise CliError("cli.unmask_lead_only", code=3)
        now = ws.now()
        due_before = None
        if args.overdue:
            due_before = now
        if args.due_within:
            due_before = now + parse_duration(args.due_within)
        query = CaseQuery(
            open_only=args.open or args.overdue or bool(args.due_within),
            owner=ws.actor if args.mine else None,
            status=args.status,
            category=args.category,
            due_before=due_before,
            text=args.search,
            limit=args.limit,
        )
        if args.json and not args.unmask:
            out = sys.stdout
            for piece in ws.iter_cases_json(query, now=now):  # streamed: flat memory at any length
                out.write(piece)
            out.write("\n")
            return 0
        cases = ws.list_cases(query, now=now, mask=not args.unmask)
        if args.json:
            print_json(cases)
        else:
            widths = _widths(ws, cases)
            for c in cases:
                print(_human_row(ws, c, widths))
            print(Translator(ws.settings.lang)("cli.case_count", count=len(cases)), file=sys.stderr)
    finally:
        ws.close()
    return 0


def _widths(ws: Any, cases: list[dict[str, Any]]) -> tuple[int, int, int]:
    """The status, category and caller columns' widths in terminal cells: the widest value, capped."""
    from agent_console.core import cells

    t = Translator(ws.settings.lang)
    status = max((cells.width(t("status." + c["status"])) for c in cases), default=4)
    category = max((cells.width(t.label(ws.profile.category(c["category"]), c["category"])) for c in cases),
                   default=4)
    person = max((cells.width(_person(c)) for c in cases), default=4)
    return min(status, 16), min(category, 20), min(person, 30)


def _person(c: dict[str, Any]) -> str:
    return f"{c['complainant']['name']}{c['complainant']['title']} {c['complainant']['phone']}"


def _human_row(ws: Any, c: dict[str, Any], widths: tuple[int, int, int] = (8, 14, 26)) -> str:
    """One case on one line, its columns lined up in terminal cells (a Chinese character is two columns)."""
    from agent_console.core import cells

    t = Translator(ws.settings.lang)
    near = nearest_deadline(c["deadlines"], paused_too=False)
    clock = ""
    if near:
        cid, d = near
        due = d["due"][:16].replace("T", " ") if d["due"] else ""
        clock = f"{d['label']} {t.duration(d['remaining_seconds'], d['unit'], d['state'] == 'breached')} ({due})" \
            + (" " + t("cli.calendar_provisional") if d.get("provisional") else "")
    category = t.label(ws.profile.category(c["category"]), c["category"])
    w_status, w_category, w_person = widths
    return "  ".join([c["number"], cells.fit(t("status." + c["status"]), w_status), cells.fit(category, w_category),
                      cells.fit(_person(c), w_person), clock]).rstrip()


def _human_case(ws: Any, c: dict[str, Any]) -> str:
    t = Translator(ws.settings.lang)
    lang = ws.settings.lang
    received = datetime.fromisoformat(c["received_at"]).astimezone(ws.tz)
    lines = [
        f"{c['number']}  {t('status.' + c['status'])}",
        f"  {c['complainant']['name']}{c['complainant']['title']}  {c['complainant']['phone']}",
        "  " + " / ".join([t.label(ws.profile.category(c["category"]), c["category"]),
                          ws.vocab.label("tiers", c["complexity"], lang),
                          ws.vocab.label("channels", c["channel"], lang)])
        + "  " + t("cli.case_received", when=t.moment(received)),
        "  " + t("cli.case_facts", text=c["facts"]),
        "  " + t("cli.case_request", text=c["request"]),
    ]
    for cid, d in c["deadlines"].items():
        due = t.moment(datetime.fromisoformat(d["due"]).astimezone(ws.tz)) if d["due"] else "—"
        lines.append(f"  ⏱ {d['label']}: {t('state.' + d['state'])}  {t.duration(d['remaining_seconds'], d['unit'])}"
                     "  " + t("cli.case_due", when=due)
                     + ("  " + t("cli.calendar_provisional") if d.get("provisional") else ""))  # 2027 is a guess
    return "\n".join(lines)


def _field_answers(ws: Any, kind: str, raw: list[str]) -> dict[str, Any]:
    """--name value pairs as the answers a form would give (lists split on commas, yes/no for checkboxes, a label
    or an id for a choice)."""
    from agent_console.services.case_actions import FORMS

    fields = {f.name: f for f in FORMS.get(kind, ())}
    answers: dict[str, Any] = {}
    i = 0
    while i < len(raw):
        token = raw[i]
        if not token.startswith("--"):
            raise CliError("cli.act_expected_field", token=token)
        name, _, value = token[2:].replace("-", "_").partition("=")
        if not _:
            if i + 1 >= len(raw):
                raise CliError("cli.act_needs_value", name=name)
            value, i = raw[i + 1], i + 1
        i += 1
        f = fields.get(name)
        if f is None:
            raise CliError("cli.act_no_field", action=kind, name=name, known=", ".join(f"--{n}" for n in fields) or "-")
        if f.kind.startswith("multi:"):
            answers[name] = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        elif f.kind == "bool":
            answers[name] = value.strip().lower() in ("1", "true", "yes", "y", "是")
        else:
            answers[name] = value
        if f.kind.startswith(("select:", "multi:")):
            answers[name] = _choice_ids(ws, f.kind.split(":", 1)[1], answers[name], name)
    return answers


def _choice_ids(ws: Any, group: str, value: Any, name: str = "") -> Any:
    """A choice typed as its id or its label (in either language) becomes the id; anything else is refused with
    the choices in the console's language."""
    if group == "departments":
        options = {d.id: d.id for d in ws.profile.departments} | {d.label: d.id for d in ws.profile.departments} | \
            {d.label_en: d.id for d in ws.profile.departments}
    else:
        options = {}
        for term in ws.vocab.terms(group):
            options.update({term.id: term.id, term.text("zh"): term.id, term.text("en"): term.id})
    unknown = [v for v in (value if isinstance(value, list) else [value]) if v not in options]
    if unknown:  # the screen offers only the list; a typo must not be recorded as it was typed
        t = Translator(ws.settings.lang)
        lang = ws.settings.lang
        if group == "departments":
            labels = [d.label if lang == "zh" else d.label_en for d in ws.profile.departments]
        else:
            labels = [term.text(lang) for term in ws.vocab.terms(group)]
        raise CliError("cli.act_not_a_choice", field="--" + name.replace("_", "-"), value=unknown[0],
                       options="、".join(labels) if lang == "zh" else ", ".join(labels))
    if isinstance(value, list):
        return [options[v] for v in value]
    return options[value]


def cmd_act(args: argparse.Namespace) -> int:
    from agent_console.services.case_actions import FORMS, perform
    from agent_console.support.i18n import Translator
    from agent_console.core.lifecycle import CASE_ACTIONS

    kind = args.action
    if kind not in FORMS and kind not in CASE_ACTIONS:
        raise CliError("cli.act_unknown", action=kind, known=", ".join(sorted(FORMS)))
    if args.help_fields:
        for f in FORMS.get(kind, ()):
            print(f"--{f.name.replace('_', '-'):<18} {f.kind}{'  (required)' if f.required else ''}")
        return 0
    ws = open_workspace(args)
    try:
        t = Translator(ws.settings.lang)
        state = require_case(ws, args.number)
        done = perform(ws, state.id, kind, _field_answers(ws, kind, args.fields), t)
        if not done.ok:
            problems = [Said("cli.field_problem", field=f"--{k}", problem=v) for k, v in (done.problems or {}).items()]
            raise CliError("cli.act_refused", problems=[*problems, *([done.general] if done.general else [])])
        if args.json:
            print_json(ws.case_dict(done.state))
        else:
            print(f"{done.state.number}  {t('action.' + kind)} → {t('status.' + done.state.status)}")
    finally:
        ws.close()
    return 0
