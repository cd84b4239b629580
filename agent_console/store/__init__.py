"""Local storage: the SQLite event log, the case projection and the small tables around them. No Textual here."""
