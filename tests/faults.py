"""Fault injection for the database's bad days, shared by screen and CLI tests: another program holding the lock,
a read-only (immutable) file or folder, a damaged page, a full disk."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another program (another console) in the middle of a write transaction on `path`."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` (a file or a folder) cannot be written, even by root: immutable where the file system allows it
    (chattr +i, as on a read-only mount), else without write permission."""
    immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    mode = path.stat().st_mode
    if not immutable:
        if os.geteuid() == 0:
            pytest.fail("cannot make a file read-only for root here (no chattr +i)")
        path.chmod(0o500 if path.is_dir() else 0o400)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(mode)


def damage(path: Path) -> None:
    """Overwrite the database's pages after the first with garbage (the header stays readable): what a failing disk
    or a half-copied file leaves. Close every connection first so the log is checkpointed into the file."""
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    size = path.stat().st_size
    with path.open("r+b") as f:
        for offset in range(page, size, page):
            f.seek(offset + 16)
            f.write(b"\xde\xad\xbe\xef" * 64)


def disk_full(monkeypatch: pytest.MonkeyPatch, running=None) -> None:
    """Every database opened from now on (and `running`, a store already open) has no room to grow: SQLite answers
    SQLITE_FULL ("database or disk is full"), exactly as on a full disk."""
    from agent_console.store import local

    if running is not None:
        pages = running.conn.execute("PRAGMA page_count").fetchone()[0]
        running.conn.execute(f"PRAGMA max_page_count={pages}")

    real_open = local.LocalStore._open

    def full_open(self, timeout: float) -> None:
        real_open(self, timeout)
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count={pages}")

    monkeypatch.setattr(local.LocalStore, "_open", full_open)


def damage_running(store) -> None:
    """Damage the file of a database a console has open, and have the console read it from the disk again (as it
    must once its cache no longer holds a page): its next read or write meets the damage."""
    store.conn.close()
    if store._reader is not None:
        store._reader.close()
        store._reader = None
    damage(store.path)
    store.conn = sqlite3.connect(str(store.path), isolation_level=None, check_same_thread=False, timeout=1)
