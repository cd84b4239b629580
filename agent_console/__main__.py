"""`python -m agent_console` is the same as `agent-console`."""

import sys

from agent_console.cli import main

sys.exit(main())
