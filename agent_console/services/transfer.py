"""Importing cases from JSONL or CSV files and exporting them: letters, emails and forwarded complaints arrive so.

Import checks every row first; good rows are registered together in one transaction, every bad row is reported with
its line number, and no row is ever half-imported.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agent_console.core.errors import Said, field_label, validation_problem
from agent_console.core.new_case import IntakeError, NewCase
from agent_console.core.text import clean_text
from agent_console.core.case_query import CaseQuery

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace

# Keys an exported case carries that are not part of a new case; import ignores them so exports round-trip.
EXPORT_ONLY_KEYS = frozenset({
    "id", "number", "profile", "status", "paused", "pause_reason", "registered_at", "registered_by", "department", "assignee",
    "read_back_at", "accepted_at", "closed_at", "outcome", "causes", "stage", "report", "fault_description", "remedy",
    "settled_amount", "paid_amount",
    "remedy_pending", "extension_pending", "closure_pending", "escalated_to", "reopened", "reminders",
    "contact_attempts", "dissatisfaction", "conflicts", "last_event_at", "last_hlc", "event_count", "deadlines",
    "next_due",
})
CSV_COLUMNS = ["received_at", "channel", "category", "complexity", "name", "title", "phone", "id_number",
               "respondent", "facts", "request", "amount", "flags"]
# Columns an exported CSV carries beyond a new case's; import ignores them so an export re-imports as it is.
EXPORT_ONLY_COLUMNS = frozenset({"number", "status", "owner", "department", "next_due"})
MAX_IMPORT_BYTES = 200 * 1024 * 1024


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)  # case numbers
    errors: list[str] = field(default_factory=list)  # "file:line: message" in English (the scripts' JSON)
    problems: list[Said] = field(default_factory=list)  # the same, by key: told in the console's language


def _decode(raw: bytes, encoding: str | None) -> tuple[str, dict[int, Said]]:
    """The file's text and, per line that could not be decoded, why. Never a guess: UTF-8 (a BOM is allowed) unless
    the user named the encoding. A bad line is kept (its bad bytes shown as U+FFFD) so line numbers stay right; the
    caller refuses every row that touches it."""
    name = codecs.lookup(encoding).name if encoding else "utf-8"
    if name == "utf-8":
        name = "utf-8-sig"
    if raw.startswith(codecs.BOM_UTF8) and name != "utf-8-sig":
        raw = raw[len(codecs.BOM_UTF8):]
    if name.startswith(("utf-16", "utf-32")):  # a newline byte can sit inside a character: decode the file whole
        try:
            return raw.decode(name), {}
        except UnicodeDecodeError as exc:
            return "", {1: Said("import.not_encoding_at", encoding=encoding, byte=exc.start + 1)}
    bad: dict[int, Said] = {}
    lines = []
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append(chunk.decode(name if number == 1 else name.replace("-sig", "")))
        except UnicodeDecodeError as exc:
            bad[number] = Said("import.bad_byte_named" if encoding else "import.bad_byte",
                               byte=f"0x{chunk[exc.start]:02x}", column=exc.start + 1, encoding=encoding or "UTF-8")
            lines.append(chunk.decode(name, errors="replace"))
    return "\n".join(lines), bad


class ImportRefused(Said, ValueError):
    """A file that cannot be imported at all (too large, an unknown --encoding)."""


def _rows(path: Path, encoding: str | None = None) -> Iterator[tuple[int, dict[str, Any] | Said]]:
    """(line number, row dict) or (line number, what is wrong with it)."""
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise ImportRefused("import.too_large", path=str(path), mb=MAX_IMPORT_BYTES // (1024 * 1024))
    try:
        text, bad = _decode(path.read_bytes(), encoding)
    except LookupError as exc:
        raise ImportRefused("import.no_such_encoding", encoding=encoding) from exc
    if path.suffix.lower() == ".csv":
        yield from _csv_rows(text, bad)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if number in bad:
            yield number, bad[number]
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, Said("import.bad_json", column=exc.colno, detail=exc.msg)
            continue
        except RecursionError:
            yield number, Said("import.json_too_deep")
            continue
        if not isinstance(value, dict):
            yield number, Said("import.not_object")
            continue
        yield number, {k: v for k, v in value.items() if k not in EXPORT_ONLY_KEYS}


def _csv_rows(text: str, bad: dict[int, Said]) -> Iterator[tuple[int, dict[str, Any] | Said]]:
    if 1 in bad:
        yield 1, bad[1]
        return
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        yield 1, Said("import.bad_header", detail=str(exc))
        return
    unknown = [c for c in header if c not in CSV_COLUMNS and c not in EXPORT_ONLY_COLUMNS]
    if unknown:
        yield 1, Said("import.unknown_columns", columns=", ".join(unknown), known=", ".join(CSV_COLUMNS))
        return
    last = reader.line_num
    while True:
        first = last + 1  # the record's first line
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                yield first, Said("import.open_quote")
                return
            yield reader.line_num, Said("import.bad_row", detail=str(exc))
            last = reader.line_num
            continue
        last = reader.line_num
        problems = [bad[n] for n in range(first, last + 1) if n in bad]
        if problems:
            yield first, problems[0]
        elif None in row:  # more fields than the header has columns: they would be dropped silently
            yield first, Said("import.extra_fields", fields=len(header) + len(row[None]), columns=len(header))
        else:
            yield first, _from_csv(row)


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in row.items() if k in CSV_COLUMNS and v not in (None, "")}
    person = {k: out.pop(k) for k in ("name", "title", "phone", "id_number") if k in out}
    if person:
        out["complainant"] = person
    if "flags" in out:
        out["flags"] = [f.strip() for f in out["flags"].replace("，", ",").split(",") if f.strip()]
    return out


def import_file(ws: Workspace, path: Path, encoding: str | None = None) -> ImportResult:
    result = ImportResult()
    events = []
    for line, row in _rows(path, encoding):
        problems: list[Any] = []
        if isinstance(row, Said):
            problems = [row]
        else:
            try:
                events.extend(ws.registration_events(NewCase.model_validate(row)))
            except IntakeError as exc:
                problems = [Said("import.field", field=field_label(k), problem=v) for k, v in exc.fields.items()]
            except ValidationError as exc:
                problems = [Said("import.field", field=field_label(".".join(str(p) for p in e["loc"]) or "case"),
                                 problem=validation_problem(e)) for e in exc.errors()]
        if problems:
            said = Said("import.row", path=str(path), line=line, problems=problems)
            result.problems.append(said)
            result.errors.append(clean_text(str(said), multiline=False))
    if events:
        states = ws.store.append(events, ws.lifecycle)
        result.imported = sorted(s.number for s in states.values())
    return result


def export_cases(ws: Workspace, fmt: str, query: CaseQuery, mask: bool = True) -> str:
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
