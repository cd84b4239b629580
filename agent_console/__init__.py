"""Agent Console: a keyboard-driven terminal console for complaint-hotline agents."""

import os

__version__ = "0.1.0"

# Textual paints at most TEXTUAL_FPS times a second, and a change that misses a frame waits for the next slot but
# one: at the default 60, a search result could sit finished for up to 33 ms before it reached the screen. 120 halves
# that; nothing is painted when nothing changes, so an idle console costs no more. Read once, when Textual is first
# imported (the console's entry point imports this package first); a value in the environment wins.
os.environ.setdefault("TEXTUAL_FPS", "120")
