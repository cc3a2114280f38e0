"""Migrations: yoyo, pointed at ``POSTGRES_URL``.

``yoyo apply`` in the repository reads ``yoyo.ini``, whose
``database = coding-agent-db://`` selects ``EnvPostgresBackend``: yoyo's
psycopg backend, connecting to ``$POSTGRES_URL`` (environment, else
``.env.local``, else ``.env``). No URL or password is copied into a file.

``apply_migrations(url)`` / ``rollback_migrations(url)`` do the same from
Python (the demo and the tests use them).
"""

from __future__ import annotations

from typing import Any

from yoyo import get_backend, read_migrations
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import parse_uri

from coding_agent_db.config import database_url
from coding_agent_db.paths import MIGRATIONS_DIR

__all__ = ["EnvPostgresBackend", "apply_migrations", "pending_migrations", "rollback_migrations"]


def _psycopg_url(url: str) -> str:
    """``url`` with the scheme that selects yoyo's psycopg 3 backend."""
    return "postgresql+psycopg://" + url.split("://", 1)[1]


class EnvPostgresBackend(PostgresqlPsycopgBackend):  # type: ignore[misc]
    """yoyo backend for ``coding-agent-db://``: the database of ``$POSTGRES_URL``."""

    def connect(self, dburi: Any) -> Any:
        return super().connect(parse_uri(_psycopg_url(database_url())))


def _backend(url: str) -> Any:
    return get_backend(_psycopg_url(url), migration_table="_yoyo_migration")


def apply_migrations(url: str) -> int:
    """Apply the pending migrations to the database at ``url``; returns how many."""
    backend = _backend(url)
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return len(pending)


def rollback_migrations(url: str) -> int:
    """Roll back every applied migration of the database at ``url``; returns how many."""
    backend = _backend(url)
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        applied = backend.to_rollback(migrations)
        backend.rollback_migrations(applied)
    return len(applied)


def pending_migrations(url: str) -> list[str]:
    """Ids of the migrations not yet applied to the database at ``url``."""
    backend = _backend(url)
    return [migration.id for migration in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]
