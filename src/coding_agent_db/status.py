"""What state a database is in: ``coding-agent-db status``.

``database_status(url)`` gathers, read-only apart from yoyo's own bookkeeping
tables: the migrations applied and pending, yoyo's migration lock, exact row
counts (with what awaits a purge), and the stored secrets per table, column,
format and key id. No secret is decrypted here; ``doctor`` does that.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg

from coding_agent_db.crypto import Keyring
from coding_agent_db.migrate import migration_state
from coding_agent_db.models import Model, from_row
from coding_agent_db.pool import Conn
from coding_agent_db.sql import queries

__all__ = [
    "DatabaseStatus",
    "MigrationLock",
    "MigrationStatus",
    "RowCounts",
    "SecretCount",
    "database_status",
    "migration_lock",
    "row_counts",
    "secret_counts",
]


class MigrationStatus(Model, frozen=True, kw_only=True):
    """The package's migrations in the database."""

    applied: list[str]
    pending: list[str]
    unknown: int
    """Applied migrations this package does not ship (a newer version migrated it)."""


class MigrationLock(Model, frozen=True, kw_only=True):
    """yoyo's lock row: a migration is running, or a killed one left it behind."""

    locked_at: datetime
    pid: int
    """Process id of the migrating client, on the machine it ran on."""


class RowCounts(Model, frozen=True, kw_only=True):
    """Exact row counts of every table (``get_row_counts``)."""

    users: int
    accounts: int
    keys: int
    tasks: int
    deleted_tasks: int
    """Soft-deleted tasks, still in ``tasks`` until ``purge-deleted``."""
    task_messages: int
    connectors: int
    settings: int
    api_tokens: int
    expired_api_tokens: int
    """Expired tokens, still in ``api_tokens`` until ``purge-expired-tokens``."""


class SecretCount(Model, frozen=True, kw_only=True):
    """How many values of one encrypted column are in one format under one key."""

    table_name: str
    column_name: str
    format: str
    """``authenticated`` (v1, AES-256-GCM), ``legacy`` (the TypeScript app's
    AES-256-CBC) or ``unrecognised`` (neither: damaged, or written by hand)."""
    key_id: str | None
    """The key id a v1 value names; None for the other formats."""
    count: int
    key: str | None = None
    """Which configured key ``key_id`` is: ``current``, ``previous``, ``not configured``;
    None when ENCRYPTION_KEY is not set (or the format names no key)."""


class DatabaseStatus(Model, frozen=True, kw_only=True):
    """Everything ``coding-agent-db status`` reports."""

    server_version: str
    migrations: MigrationStatus
    migration_lock: MigrationLock | None
    rows: RowCounts | None
    """None while the schema is not there yet (no migration applied)."""
    secrets: list[SecretCount] | None
    """None while the schema is not there yet."""


async def migration_lock(conn: Conn) -> MigrationLock | None:
    """yoyo's lock row, or None (also when yoyo never ran on this database)."""
    try:
        row = await queries.get_migration_lock(conn)
    except asyncpg.UndefinedTableError:
        return None
    return None if row is None else from_row(row, MigrationLock)


async def row_counts(conn: Conn) -> RowCounts:
    """Exact row counts of every table."""
    return from_row(await queries.get_row_counts(conn), RowCounts)


def key_label(key_id: str | None, ring: Keyring | None) -> str | None:
    """Which configured key ``key_id`` is, or None when that cannot be said."""
    if key_id is None or ring is None:
        return None
    if key_id == ring.current.id:
        return "current"
    if key_id in {key.id for key in ring.previous}:
        return "previous"
    return "not configured"


async def secret_counts(conn: Conn, ring: Keyring | None = None) -> list[SecretCount]:
    """Stored secrets per table, column, format and key id (labelled against ``ring``)."""
    counts = [from_row(row, SecretCount) async for row in queries.list_secret_counts(conn)]
    return [
        SecretCount(
            table_name=c.table_name,
            column_name=c.column_name,
            format=c.format,
            key_id=c.key_id,
            count=c.count,
            key=key_label(c.key_id, ring),
        )
        for c in counts
    ]


async def database_status(conn: Conn, url: str, ring: Keyring | None = None) -> DatabaseStatus:
    """The state of the database at ``url``, read through ``conn`` (a connection to it)."""
    version: str = await queries.get_server_version(conn)
    state = await asyncio.to_thread(migration_state, url)
    migrations = MigrationStatus(
        applied=state.applied, pending=state.pending, unknown=state.unknown
    )
    try:
        rows: RowCounts | None = await row_counts(conn)
        secrets: list[SecretCount] | None = await secret_counts(conn, ring)
    except asyncpg.UndefinedTableError:  # not migrated (far enough) yet
        rows = secrets = None
    return DatabaseStatus(
        server_version=version,
        migrations=migrations,
        migration_lock=await migration_lock(conn),
        rows=rows,
        secrets=secrets,
    )
