"""Subcommands of `agent-console`: one module each, discovered at start. See `agent_console/cli.py`."""
