"""Domain core: models, events, lifecycle, clocks, working-day calendar and policy profiles.

Nothing here imports Textual, SQLite or the network; the layering contract in pyproject.toml keeps it so.
"""
