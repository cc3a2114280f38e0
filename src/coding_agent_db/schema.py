"""A database the migrations have not reached: which migration is missing, and how to apply it.

PostgreSQL names what it did not find (a relation, a column, a function);
the migration that creates it is found in ``migrations/`` by its DDL. No query
is sent: the connection may sit in a failed transaction, and the answer is in
the error already.

``schema_error`` is the one translation of these driver errors; it is called
from one place (the boundary, around every public function).
"""

from __future__ import annotations

import functools
import re

import asyncpg

from coding_agent_db.errors import SchemaNotMigratedError
from coding_agent_db.paths import MIGRATIONS_DIR

__all__ = ["schema_error"]

_CREATES = re.compile(
    r"\b(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|FUNCTION)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"|ADD\s+COLUMN\s+(?:IF\s+NOT\s+EXISTS\s+)?)(?:\w+\.)?\"?(?P<name>\w+)",
    re.IGNORECASE,
)
_MISSING = (
    re.compile(r'relation "(?:\w+\.)?(?P<name>\w+)" does not exist'),
    re.compile(r'column "(?P<name>\w+)"'),
    re.compile(r"column (?:\w+\.)+(?P<name>\w+) does not exist"),
    re.compile(r"function (?:\w+\.)?(?P<name>\w+)\("),
)


@functools.cache
def _creators() -> dict[str, str]:
    """Object name -> the first migration (by id) that creates it."""
    found: dict[str, str] = {}
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name.endswith(".rollback.sql"):
            continue
        for match in _CREATES.finditer(path.read_text()):
            found.setdefault(match["name"].lower(), path.name.removesuffix(".sql"))
    return found


def schema_error(
    exc: asyncpg.UndefinedTableError
    | asyncpg.UndefinedColumnError
    | asyncpg.UndefinedFunctionError,
) -> SchemaNotMigratedError | None:
    """The package's error for a missing relation/column/function, or None if no migration makes it.

    None means the error is not about the schema's version (a bug to surface as is).
    """
    message = str(exc)
    for pattern in _MISSING:
        match = pattern.search(message)
        if match is None:
            continue
        name = match["name"].lower()
        migration = _creators().get(name)
        if migration is not None:
            return SchemaNotMigratedError(migration=migration, missing=name)
    return None
