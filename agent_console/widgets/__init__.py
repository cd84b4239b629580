"""Textual widgets of the console (no SQL, no business rules: they call the workspace)."""
