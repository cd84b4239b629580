"""Reports for leads: KPIs, the overdue queue, the weekly overdue notice and the monthly report, in table, CSV,
JSON, Markdown or HTML. Personal data is masked unless the lead asks to unmask (and that choice is recorded)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent_console.services import kpi, lead
from agent_console.core import cells
from agent_console.core.errors import Said
from agent_console.core.labels import label
from agent_console.support.i18n import Translator
from agent_console.core.text import mask_name, mask_phone

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace

FIGURE_LABELS = {
    "on_time_closure_rate": ("按时办结率", "On-time closure rate"),
    "nine_day_closure_rate": ("9日办结率", "9-day closure rate"),
    "response_rate": ("响应率", "Response rate"),
    "coordinator_response_hours": ("协调员响应时长（小时）", "Coordinator response (hours)"),
    "handling_days_calendar": ("平均处理时长（自然日）", "Average handling (calendar days)"),
    "handling_days_working": ("平均处理时长（工作日）", "Average handling (working days)"),
    "satisfaction_rate": ("满意率", "Satisfaction rate"),
    "satisfaction_score": ("满意度均分", "Satisfaction score"),
    "complaints": ("投诉件数（升级计2）", "Complaints (escalated count 2)"),
    "escalations": ("升级件数（计2）", "Escalations (counted 2)"),
    "past_limit": ("超时件占比", "Past the limit"),
    "call_handling_seconds": ("平均通话处理时长（秒，按通话）", "Average handling time per call (seconds)"),
}


def kpi_rows(report: kpi.KpiReport, lang: str, profile: Any = None) -> list[dict[str, Any]]:
    """One row per figure, then one per department (by its label in `lang` when `profile` is given)."""
    departments = {d.id: d for d in profile.departments} if profile is not None else {}
    rows = []
    for key, fig in report.figures.items():
        zh, en = FIGURE_LABELS.get(key, (key, key))
        value = fig.value
        shown = "—" if value is None else (f"{value:.1%}" if key.endswith("_rate") or key == "past_limit"
                                           else f"{value:g}")
        rows.append({"figure": key, "label": zh if lang == "zh" else en, "value": shown,
                     "numerator": fig.numerator, "denominator": fig.denominator, "cases": " ".join(fig.cases[:50])})
    for agent, c in report.calls_by_agent.items():
        rows.append({"figure": f"call_handling:{agent}", "label": ("通话处理时长 " if lang == "zh" else "AHT ") + agent,
                     "value": "—" if c["average"] is None else f"{c['average']:g}", "numerator": c["calls"],
                     "denominator": c["calls"], "cases": ""})
    for dept, d in report.departments.items():
        rows.append({"figure": f"department:{dept}", "label": label(departments.get(dept), lang, dept),
                     "value": f"{d['share']:.1%}",
                     "numerator": d["past_limit"], "denominator": d["cases"],
                     "cases": Translator(lang)("report.flagged") if d["flagged"] else ""})
    return rows


def overdue_rows(ws: Workspace, unmask: bool, hours: float = 8) -> list[dict[str, Any]]:
    rows = lead.overdue_queue(ws, hours)
    # the caller's name and phone of every row in one query (the projection's own columns), not a whole case state
    # read and decoded per row (seven times the raw query at a million cases)
    people = ws.people([r["id"] for r in rows])
    out = []
    for r in rows:
        name, phone = people.get(r["id"], ("", ""))
        out.append({"horizon": r["horizon"], "number": r["number"], "owner": r["owner"],
                    "department": label(ws.profile.department(r["department"]), ws.settings.lang, r["department"]),
                    "clock": r["clock"],
                    "due": r["due"][:16].replace("T", " ") + (" ≈" if r.get("provisional") else ""),  # ≈: provisional
                    "name": name if unmask else mask_name(name), "phone": phone if unmask else mask_phone(phone)})
    return out


# what people read instead of the ids scripts read (JSON keeps the ids)
_WORD_COLUMNS = {"horizon": "lead.horizon_", "value": "lead.horizon_"}


def render(rows: list[dict[str, Any]], fmt: str, title: str, extra: dict[str, Any] | None = None,
           lang: str = "en") -> str:
    """`rows` as `fmt`. JSON keeps the ids (the interface for scripts); every other format is for people: the
    title, headers and words in `lang`, the `figure` id column left out, columns lined up in terminal cells."""
    if fmt == "json":
        en = Translator("en")
        title = en(f"report.title_{title}") if en.has(f"report.title_{title}") else title
        return json.dumps({"title": title, **(extra or {}), "rows": rows}, ensure_ascii=False, indent=1)
    t = Translator(lang)
    title = t(f"report.title_{title}") if t.has(f"report.title_{title}") else title
    extra = {t(f"report.{k}") if t.has(f"report.{k}") else k: v for k, v in (extra or {}).items()}
    keys = [c for c in (rows[0].keys() if rows else []) if c != "figure"]
    rows = [{c: (t(_WORD_COLUMNS[c] + str(r[c])) if c in _WORD_COLUMNS and t.has(_WORD_COLUMNS[c] + str(r[c]))
                 else r.get(c, "")) for c in keys} for r in rows]
    names = {c: t(f"report.col_{c}") if t.has(f"report.col_{c}") else c for c in keys}
    rows = [{names[c]: r[c] for c in keys} for r in rows]
    columns = [names[c] for c in keys] or [t("report.none")]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    if fmt == "markdown":
        lines = [f"# {title}", ""] + [f"- {t('report.extra_line', name=k, value=v)}" for k, v in extra.items()] + [""]
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "---|" * len(columns))
        lines += ["| " + " | ".join(str(r.get(c, "")).replace("|", "\\|") for c in columns) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    if fmt == "html":
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
                       for r in rows)
        meta = "".join(f"<p>{html.escape(t('report.extra_line', name=k, value=v))}</p>" for k, v in extra.items())
        return (f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
                f"{meta}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n")
    widths = {c: max([cells.width(c), *(cells.width(str(r.get(c, ""))) for r in rows)]) for c in columns}
    lines = [title] + [t("report.extra_line", name=k, value=v) for k, v in (extra or {}).items()]
    lines.append("  ".join(cells.ljust(c, widths[c]) for c in columns).rstrip())
    lines += ["  ".join(cells.ljust(str(r.get(c, "")), widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def build(ws: Workspace, kind: str, period: str | None, fmt: str, unmask: bool = False, **filters: Any) -> str:
    lead.require_lead(ws)
    lang = ws.settings.lang
    now = ws.now()
    if unmask:
        lead.record_unmask(ws, f"report {kind} {period or ''} {fmt}")
    if kind == "overdue":
        return render(overdue_rows(ws, unmask), fmt, "overdue", {"generated": now.astimezone(ws.tz).isoformat()[:16]
                                                                   .replace("T", " ")}, lang)
    if kind == "weekly":
        end = now
        start = end - timedelta(days=7)
        report = kpi.compute(ws, start, end, now, **filters)
        rows = [r for r in kpi_rows(report, lang, ws.profile) if r["figure"] in ("past_limit",) or
                r["figure"].startswith("department:")]
        rows += [{"figure": "overdue", "label": o["number"], "value": o["horizon"], "numerator": "",
                  "denominator": "", "cases": f"{o['owner']} {o['department']} {o['name']} {o['phone']}"}
                 for o in overdue_rows(ws, unmask) if o["horizon"] == "overdue"]
        return render(rows, fmt, "weekly", {"from": start.isoformat()[:10], "to": end.isoformat()[:10]}, lang)
    month = period or _previous_month(now.astimezone(ws.tz))
    if kind == "monthly" or (kind == "kpi" and period and ".." not in period):
        start, end = _month(ws, month, period)
    elif kind == "kpi" and period:
        start, end = _range(ws, period)
    else:
        start, end = kpi.month_bounds(ws, now.astimezone(ws.tz).strftime("%Y-%m"))
    report = kpi.compute(ws, start, end, now, **filters)
    extra = {"from": start.isoformat()[:10], "to": end.isoformat()[:10]}
    if kind == "monthly":
        extra["due"] = kpi.monthly_report_due(ws, month).isoformat()[:10]
    if fmt == "json":
        return json.dumps({"title": f"{kind} report", **extra, **report.as_dict()}, ensure_ascii=False, indent=1)
    return render(kpi_rows(report, lang, ws.profile), fmt, kind, extra, lang)


class PeriodError(Said, ValueError):
    """A --period the report cannot read (`error.report.*`): said, never guessed at."""


def _month(ws: Workspace, month: str, typed: str | None) -> tuple[datetime, datetime]:
    """YYYY-MM as the month's bounds; anything else (2026-1, 2026-13, a date) is a PeriodError."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise PeriodError("report.bad_month", value=typed or month)
    try:
        return kpi.month_bounds(ws, month)
    except ValueError as exc:
        raise PeriodError("report.bad_month", value=typed or month) from exc


def _range(ws: Workspace, period: str) -> tuple[datetime, datetime]:
    """FROM..TO (dates, or date-times without an offset, in the console's time zone); TO before FROM is refused."""
    a, _, b = period.partition("..")
    try:
        start = datetime.fromisoformat(a.strip()).replace(tzinfo=ws.tz)
        end = datetime.fromisoformat(b.strip()).replace(tzinfo=ws.tz)
    except ValueError as exc:
        raise PeriodError("report.bad_range", value=period) from exc
    if end < start:
        raise PeriodError("report.backwards", value=period, start=a.strip(), end=b.strip())
    return start, end


def _previous_month(now: datetime) -> str:
    first = now.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")
