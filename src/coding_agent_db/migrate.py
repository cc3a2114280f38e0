"""Migrations: yoyo, pointed at ``POSTGRES_URL``.

``yoyo apply`` in the repository reads ``yoyo.ini``, whose
``database = coding-agent-db://`` selects ``EnvPostgresBackend``: yoyo's
psycopg backend, connecting to ``$POSTGRES_URL`` (environment, else
``.env.local``, else ``.env``). No URL or password is copied into a file.

``apply_migrations(url)`` / ``rollback_migrations(url)`` do the same from
Python (the demo, the tests and ``coding-agent-db migrate`` / ``rollback``
use them); ``migration_state(url)`` says what is applied and what is pending.

In a user's project, where there is no yoyo.ini and no migrations/ folder,
the installed package carries its migrations: ``yoyo apply --database
coding-agent-db:// package:coding_agent_db:_sql/migrations`` (a wheel install).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from yoyo import get_backend, read_migrations
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import parse_uri
from yoyo.exceptions import LockTimeout

from coding_agent_db.config import database_url
from coding_agent_db.paths import MIGRATIONS_DIR

__all__ = [
    "EnvPostgresBackend",
    "LockTimeout",
    "MigrationState",
    "apply_migrations",
    "apply_pending",
    "break_migration_lock",
    "migration_state",
    "pending_migrations",
    "rollback_latest",
    "rollback_migrations",
]


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


LOCK_TIMEOUT = 10.0
"""Seconds a migration waits for another one's lock (yoyo's default) before LockTimeout."""


def apply_pending(url: str, *, lock_timeout: float = LOCK_TIMEOUT) -> list[str]:
    """Apply the pending migrations to the database at ``url``; returns their ids, in order."""
    backend = _backend(url)
    with _closing(backend):
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock(lock_timeout):
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    return [migration.id for migration in pending]


def rollback_migrations(url: str) -> int:
    """Roll back every applied migration of the database at ``url``; returns how many."""
    backend = _backend(url)
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        applied = backend.to_rollback(migrations)
        backend.rollback_migrations(applied)
    return len(applied)


def rollback_latest(
    url: str, count: int | None = 1, *, lock_timeout: float = LOCK_TIMEOUT
) -> list[str]:
    """Roll back the ``count`` most recent migrations (all when None); returns their ids.

    Newest first: the order they are undone in.
    """
    backend = _backend(url)
    with _closing(backend):
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock(lock_timeout):
            applied = backend.to_rollback(migrations)
            chosen = applied.__class__(list(applied)[:count], applied.post_apply)
            backend.rollback_migrations(chosen)
    return [migration.id for migration in chosen]


class MigrationState(NamedTuple):
    """What the database holds of the package's migrations."""

    applied: list[str]
    """Ids of the package's migrations the database has, oldest first."""
    pending: list[str]
    """Ids of the package's migrations it lacks, in the order they would run."""
    unknown: int
    """Migrations recorded in the database that this package does not ship
    (a newer version of the package migrated it)."""


def migration_state(url: str) -> MigrationState:
    """The applied and pending migrations of the database at ``url``.

    Like ``yoyo list``, it creates yoyo's own bookkeeping tables when missing.
    """
    backend = _backend(url)
    with _closing(backend):
        migrations = read_migrations(str(MIGRATIONS_DIR))
        applied_hashes = backend.get_applied_migration_hashes()
        known = {migration.hash for migration in migrations}
        applied = [m.id for m in migrations if m.hash in applied_hashes]
        pending = [m.id for m in backend.to_apply(migrations)]
        unknown = len([h for h in applied_hashes if h not in known])
    return MigrationState(applied=applied, pending=pending, unknown=unknown)


def break_migration_lock(url: str) -> None:
    """Remove yoyo's migration lock, e.g. the one a killed ``migrate`` left behind."""
    backend = _backend(url)
    with _closing(backend):
        backend.break_lock()


@contextmanager
def _closing(backend: Any) -> Iterator[None]:
    try:
        yield
    finally:
        backend.connection.close()


def pending_migrations(url: str) -> list[str]:
    """Ids of the migrations not yet applied to the database at ``url``."""
    backend = _backend(url)
    return [migration.id for migration in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]
