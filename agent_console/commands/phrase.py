"""`agent-console phrase QUERY [--copy] [--case NUMBER] [--json]`: the best scripted replies from the shell."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent_console.support.i18n import Translator
from agent_console.phrases.fill import placeholder_label, show_placeholders
from agent_console.commands.common import CliError, open_workspace, print_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("phrase", help="find scripted replies (Chinese, pinyin, initials, typos)", parents=[common])
    p.add_argument("query", nargs="*", help="what to look for, e.g. lpsx or 理赔时效")
    p.add_argument("--case", metavar="NUMBER", help="fill placeholders from this case")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--copy", action="store_true", help="copy the best match (filled) to the clipboard")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a placeholder value")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_phrase)


def cmd_phrase(args: argparse.Namespace) -> int:
    from agent_console.services import phrase_lookup as phrases
    from agent_console.support.clipboard import CopyFailed, copy

    ws = open_workspace(args)
    try:
        context: dict[str, Any] = {"case_id": None, "category": None, "stage": None, "fields": {}}
        if args.case:
            state = ws.find(args.case)
            if state is None:
                raise CliError("cli.no_case", code=1, number=args.case)
            context.update(case_id=state.id, category=state.category, stage="case")
        extra = {}
        for item in args.set:
            if "=" not in item:
                raise CliError("cli.phrase_set", item=item)
            k, v = item.split("=", 1)
            extra[k.strip()] = v
        t = Translator(ws.settings.lang)
        problems = phrases.book(ws).problems
        for problem in problems:
            print(t("cli.warning", text=t.error(problem)), file=sys.stderr)
        results = phrases.search(ws, " ".join(args.query), context, limit=args.limit)
        rows = []
        for e in results:
            filled = phrases.fill_entry(ws, e, context, extra)
            rows.append({"id": e.id, "situation": e.situation, "title": e.title, "text": filled.text,
                         "missing": filled.missing, "categories": e.categories, "tags": e.tags})
        copied = None
        if args.copy:
            if not rows:
                raise CliError(t("cli.phrase_nothing"), code=1)
            if rows[0]["missing"]:
                raise CliError("cli.phrase_fill", code=1, names=", ".join(f"--set {m}=…" for m in rows[0]["missing"]))
            try:
                copied = copy(rows[0]["text"], lambda text: sys.stdout.write(_osc52(text)))
            except CopyFailed as exc:
                raise CliError(exc, code=1) from exc
            phrases.record_use(ws, results[0], context)
        if args.json:
            print_json({"results": rows, "copied": copied})
        else:
            for r in rows:
                # the entry's id (what --json gives scripts) only in English; a Chinese reader gets the title
                print((f"[{r['id']}] {r['title']}" if t.lang == "en" else r["title"])
                      + f"\n    {show_placeholders(t, r['text'])}")
                if r["missing"]:
                    names = [placeholder_label(t, m) for m in r["missing"]]
                    print("    " + t("cli.phrase_needs", names="、".join(names) if t.lang == "zh" else ", ".join(names)))
            if copied:
                print(t("cli.phrase_copied_" + copied), file=sys.stderr)
    finally:
        ws.close()
    return 0


def _osc52(text: str) -> str:
    import base64

    return f"\x1b]52;c;{base64.b64encode(text.encode()).decode()}\x07"
