"""Agent Console: a keyboard-driven terminal console for complaint-hotline agents."""

__version__ = "0.1.0"
