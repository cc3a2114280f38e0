"""Migrations: yoyo, pointed at ``POSTGRES_URL``.

``yoyo apply`` in the repository reads ``yoyo.ini``, whose
``database = coding-agent-db://`` selects ``EnvPostgresBackend``: yoyo's
psycopg backend, connecting to ``$POSTGRES_URL`` (environment, else
``.env.local``, else ``.env``). No URL or password is copied into a file.

``apply_migrations(url)`` / ``rollback_migrations(url)`` do the same from
Python (the demo and the tests use them).

A migration killed with ``kill -9`` leaves yoyo's lock row behind. Instead of
yoyo's traceback, ``yoyo apply`` then prints one line naming the holder, since
when, and ``yoyo break-lock``; ``apply_migrations`` raises MigrationLockedError
saying the same; ``find_migration_lock(url)`` reports it (for ``doctor``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
from yoyo import read_migrations
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import parse_uri
from yoyo.exceptions import LockTimeout

from coding_agent_db.config import database_url
from coding_agent_db.errors import MigrationLockedError
from coding_agent_db.paths import MIGRATIONS_DIR

__all__ = [
    "LOCK_WAIT",
    "EnvPostgresBackend",
    "apply_migrations",
    "find_migration_lock",
    "pending_migrations",
    "rollback_migrations",
]

LOCK_WAIT = 10
"""Seconds a migration command waits for another one's lock (yoyo's default)."""


def _lock_query() -> str:
    """queries/diagnostics.sql's get_migration_lock (no parameters), for psycopg."""
    from coding_agent_db.sql import queries  # not at import: yoyo loads this module early

    sql: str = queries.get_migration_lock.sql
    return sql


def _holder(row: tuple[int, datetime] | None) -> MigrationLockedError | None:
    if row is None:
        return None
    pid, since = row
    # yoyo writes ctime as UTC without a time zone.
    return MigrationLockedError(pid=pid, since=since.replace(tzinfo=UTC))


def _lock_holder(backend: Any) -> MigrationLockedError | None:
    """The lock yoyo's table holds on ``backend``'s database, as the error to report."""
    return _holder(backend.execute(_lock_query()).fetchone())


class _LockReporting:
    """Mixin: a held lock becomes MigrationLockedError (short message), not LockTimeout."""

    @contextlib.contextmanager
    def lock(self, timeout: int = LOCK_WAIT) -> Iterator[None]:
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(super().lock(timeout))  # type: ignore[misc]
            except LockTimeout as exc:
                holder = _lock_holder(self)
                if holder is None:  # released just now: the caller may try again
                    raise
                raise holder from exc
            yield


def _psycopg_url(url: str) -> str:
    """``url`` with the scheme that selects yoyo's psycopg 3 backend."""
    return "postgresql+psycopg://" + url.split("://", 1)[1]


class _Backend(_LockReporting, PostgresqlPsycopgBackend):  # type: ignore[misc]
    """yoyo's psycopg backend, reporting a held migration lock briefly.

    Server-side prepared statements are off: psycopg names them per connection
    (``_pg3_0``, ...), which a transaction-mode pooler mixes up between
    clients. Migrations run few statements; nothing is lost.
    """

    def connect(self, dburi: Any) -> Any:
        conn = super().connect(dburi)
        conn.prepare_threshold = None
        return conn


class EnvPostgresBackend(_Backend):
    """yoyo backend for ``coding-agent-db://``: the database of ``$POSTGRES_URL``.

    Used by the ``yoyo`` command: a held lock ends it with a one-line message
    (exit status 1) instead of a traceback.
    """

    def connect(self, dburi: Any) -> Any:
        return super().connect(parse_uri(_psycopg_url(database_url())))

    @contextlib.contextmanager
    def lock(self, timeout: int = LOCK_WAIT) -> Iterator[None]:
        try:
            with super().lock(timeout):
                yield
        except MigrationLockedError as exc:
            raise SystemExit(f"yoyo: {exc}") from None


def _backend(url: str) -> Any:
    backend = _Backend(parse_uri(_psycopg_url(url)), "_yoyo_migration")
    backend.init_database()
    return backend


def find_migration_lock(url: str | None = None) -> MigrationLockedError | None:
    """The migration lock held on the database at ``url`` (who, since when), or None.

    ``url`` defaults to ``POSTGRES_URL``. The lock is stale when no migration
    is running; ``str()`` of the result says how to clear it (``yoyo break-lock``).
    """
    with psycopg.connect(url or database_url(), autocommit=True, prepare_threshold=None) as conn:
        try:
            row = conn.execute(_lock_query()).fetchone()
        except psycopg.errors.UndefinedTable:
            return None  # never migrated: yoyo has not created its lock table
    return _holder(row)


def apply_migrations(url: str, *, lock_wait: int = LOCK_WAIT) -> int:
    """Apply the pending migrations to the database at ``url``; returns how many.

    MigrationLockedError when another migration holds the lock for ``lock_wait`` seconds.
    """
    backend = _backend(url)
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock(lock_wait):
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
