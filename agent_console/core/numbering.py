"""Case numbers an agent can read out on the phone: month, device code, serial — `2611-K7Q-042`.

The month comes first (DOMAIN.md §2: numbered by month). The device code keeps numbers unique when several agents
register cases offline; the serial counts per device and month. Crockford base32 avoids letters that are misheard
or misread (no I, L, O, U).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RE = re.compile(r"^\d{4}-[0-9A-HJKMNP-TV-Z]{3}-\d{3,}$")


def device_code(device_id: str) -> str:
    """Three base32 characters derived from the device id (32,768 codes)."""
    value = int.from_bytes(hashlib.sha256(device_id.encode()).digest()[:4], "big")
    return "".join(ALPHABET[(value >> shift) & 31] for shift in (10, 5, 0))


def case_number(month_of: datetime, code: str, serial: int) -> str:
    return f"{month_of:%y%m}-{code}-{serial:03d}"


def month_key(month_of: datetime) -> str:
    return f"{month_of:%y%m}"


def looks_like_number(text: str) -> bool:
    return bool(NUMBER_RE.match(text.strip().upper()))
