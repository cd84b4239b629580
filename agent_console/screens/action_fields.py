"""The case action forms' fields now live in services/case_actions.py (the shell's `case act` uses them too)."""

from agent_console.services.case_actions import FORMS, Field, build_payload, field_for_reason

__all__ = ["FORMS", "Field", "build_payload", "field_for_reason"]
