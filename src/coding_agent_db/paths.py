"""Where the SQL lives: ``queries/`` and ``migrations/``.

In a checkout (and an editable install) they are the top-level folders of the
repository; a built wheel carries them under ``coding_agent_db/_sql/``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MIGRATIONS_DIR", "QUERIES_DIR"]

_PACKAGE = Path(__file__).resolve().parent


def _sql_dir(name: str) -> Path:
    packaged = _PACKAGE / "_sql" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parents[1] / name


QUERIES_DIR = _sql_dir("queries")
MIGRATIONS_DIR = _sql_dir("migrations")
