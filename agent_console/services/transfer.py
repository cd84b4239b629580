"""Importing cases from JSONL or CSV files and exporting them: letters, emails and forwarded complaints arrive so.

Import checks every row first; good rows are registered together in one transaction, every bad row is reported with
its line number, and no row is ever half-imported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_console.core.new_case import IntakeError, NewCase
from agent_console.core.text import clean_text
from agent_console.core.case_query import CaseQuery

# Keys an exported case carries that are not part of a new case; import ignores them so exports round-trip.
EXPORT_ONLY_KEYS = frozenset({
    "id", "number", "status", "paused", "pause_reason", "registered_at", "registered_by", "department", "assignee",
    "read_back_at", "accepted_at", "closed_at", "outcome", "causes", "stage", "report", "fault_description", "remedy",
    "settled_amount", "paid_amount",
    "remedy_pending", "extension_pending", "closure_pending", "escalated_to", "reopened", "reminders",
    "contact_attempts", "dissatisfaction", "conflicts", "last_event_at", "last_hlc", "event_count", "deadlines",
    "next_due",
})
CSV_COLUMNS = ["received_at", "channel", "category", "complexity", "name", "title", "phone", "id_number",
               "respondent", "facts", "request", "amount", "flags"]
MAX_IMPORT_BYTES = 200 * 1024 * 1024


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)  # case numbers
    errors: list[str] = field(default_factory=list)  # "file:line: message"


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row dict) or (line number, error text)."""
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise ValueError(f"{path}: larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")  # older Chinese office exports
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        unknown = set(reader.fieldnames or []) - set(CSV_COLUMNS)
        if unknown:
            yield 1, f"unknown column(s) {', '.join(sorted(unknown))}; known: {', '.join(CSV_COLUMNS)}"
            return
        for row in reader:
            yield reader.line_num, _from_csv(row)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"invalid JSON at column {exc.colno}: {exc.msg}"
            continue
        if not isinstance(value, dict):
            yield number, "expected a JSON object"
            continue
        yield number, {k: v for k, v in value.items() if k not in EXPORT_ONLY_KEYS}


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in row.items() if k in CSV_COLUMNS and v not in (None, "")}
    person = {k: out.pop(k) for k in ("name", "title", "phone", "id_number") if k in out}
    if person:
        out["complainant"] = person
    if "flags" in out:
        out["flags"] = [f.strip() for f in out["flags"].replace("，", ",").split(",") if f.strip()]
    return out


def import_file(ws: Any, path: Path) -> ImportResult:
    result = ImportResult()
    events = []
    for line, row in _rows(path):
        if isinstance(row, str):
            result.errors.append(f"{path}:{line}: {row}")
            continue
        try:
            events.extend(ws.registration_events(NewCase.model_validate(row)))
        except IntakeError as exc:
            result.errors.append(f"{path}:{line}: " + "; ".join(f"{k}: {v}" for k, v in exc.fields.items()))
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())
            result.errors.append(f"{path}:{line}: {clean_text(detail, multiline=False)}")
    if events:
        states = ws.store.append(events, ws.lifecycle)
        result.imported = sorted(s.number for s in states.values())
    return result


def export_cases(ws: Any, fmt: str, query: CaseQuery, mask: bool = True) -> str:
    cases = ws.list_cases(query, mask=mask)
    if fmt == "jsonl":
        return "".join(json.dumps(c, ensure_ascii=False, default=str) + "\n" for c in cases)
    buf = io.StringIO()
    columns = ["number", "status", *CSV_COLUMNS, "owner", "department", "next_due"]
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for c in cases:
        flat = {**c, **c.get("complainant", {})}
        flat["flags"] = ",".join(c.get("flags", []))
        writer.writerow(flat)
    return buf.getvalue()
