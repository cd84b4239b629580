"""Sync between a console's local store and a central store (no Textual here).

`engine.sync_once` pushes the outbox in batches (marking events only once the centre acknowledges them) and pulls the
centre's changes after a cursor (applying them and advancing the cursor in one local transaction). Two centres share
one interface and one conformance test suite: PostgreSQL (`pg.PostgresCentral`, with roles and row-level security)
and an embedded SQLite file (`sqlite_central.SqliteCentral`).
"""

from agent_console.sync.central import Central, Identity, PushResult
from agent_console.sync.connect import open_central
from agent_console.sync.engine import SyncReport, sync_once

__all__ = ["Central", "Identity", "PushResult", "SyncReport", "open_central", "sync_once"]
