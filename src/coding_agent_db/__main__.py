"""``python -m coding_agent_db``: the ``coding-agent-db`` command (see ``cli``)."""

import sys

from coding_agent_db.cli import main

if __name__ == "__main__":
    sys.exit(main())
