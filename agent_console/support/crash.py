"""What happens on a crash: the traceback goes to a private log file with personal numbers masked, never to the
screen (an agent's screen is seen by the caller's neighbour, a screen recording, a shoulder); the person gets a
short message in the console's language that names the file.
"""

from __future__ import annotations

import os
import re
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

from agent_console.core.text import mask_id, mask_phone
from agent_console.support.paths import data_dir

# A mainland ID (17 digits + digit/X), a passport/policy-like number (letters then 6+ digits), a phone (7+ digits,
# maybe split by spaces or dashes, maybe +86). Longest patterns first so an ID is not masked as a phone.
_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15}|[A-Za-z]{1,3}\d{6,})(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(?:\+?\d[\d \-]{5,}\d)(?!\d)")


def mask_personal(text: str) -> str:
    """`text` with every ID-like and phone-like number masked (138****5678, P123*******12)."""
    text = _ID.sub(lambda m: mask_id(m.group()), text)

    def phone(m: re.Match[str]) -> str:
        raw = m.group()
        return mask_phone(raw) if sum(ch.isdigit() for ch in raw) >= 7 else raw

    return _PHONE.sub(phone, text)


def crash_dir() -> Path:
    return data_dir() / "crash"


def write_crash_log(exc: BaseException, context: str = "") -> Path:
    """Write `exc`'s traceback (no local variables: they hold the caller's data) masked, to a new file only the
    owner can read; return its path. Falls back to the temp directory when the data directory is not writable."""
    body = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    text = mask_personal(f"{datetime.now().isoformat(timespec='seconds')} {context}\n{body}")
    name = f"crash-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    for folder in (crash_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)  # an existing file keeps its mode with O_CREAT; make sure
                os.write(fd, text.encode("utf-8", "replace"))
            finally:
                os.close(fd)
            return path
        except OSError:
            continue
    return Path(os.devnull)
