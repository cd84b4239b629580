"""The application layer: the workspace and one module per feature (intake, callbacks, lead work, KPIs,
reports, phrase lookup, import/export, demo data). No Textual and no SQL here: services ask the store."""
