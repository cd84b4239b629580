"""Sync between a console's local store and a central store (no Textual here)."""
