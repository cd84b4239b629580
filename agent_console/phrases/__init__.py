"""The phrasebook: loading, validation, search and filling of scripted replies (no Textual here)."""
