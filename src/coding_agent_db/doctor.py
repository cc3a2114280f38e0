"""Checks of a deployment: ``coding-agent-db doctor``.

Each check is one small async function taking the ``DoctorContext`` and
returning a ``Finding`` (ok, warn or fail, what was seen, what to do). They
run in the order of ``CHECKS``; adding a check is writing one function and
appending it there. A check that needs something an earlier one could not get
(no connection, no ENCRYPTION_KEY) raises ``Skip`` with the reason.
The context caches what several checks read (the migration state, the secret
counts), so a new check can reuse it without another round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from coding_agent_db.crypto import Keyring, keyring
from coding_agent_db.errors import CodingAgentDbError, DecryptionError
from coding_agent_db.migrate import MigrationState, migration_state
from coding_agent_db.models import Model
from coding_agent_db.pool import Conn, check_pooling, pooler_in_front
from coding_agent_db.rotation import _TABLES as SECRET_TABLES
from coding_agent_db.rotation import first_position
from coding_agent_db.sql import queries
from coding_agent_db.status import SecretCount, migration_lock, secret_counts

__all__ = [
    "CHECKS",
    "STALE_LOCK_AFTER",
    "Check",
    "DoctorContext",
    "Finding",
    "Skip",
    "run_checks",
]

Severity = Literal["ok", "warn", "fail", "skip"]

STALE_LOCK_AFTER = timedelta(minutes=10)
"""A migration lock older than this is reported as stale (yoyo waits 10 s for one)."""
SAMPLE_PER_TABLE = 50
"""Stored values per table that ``check_encryption_key`` decrypts."""
SHOWN = 10
"""Locations listed in a finding at most."""
OLDEST_SUPPORTED_SERVER = 13


class Finding(Model, frozen=True, kw_only=True):
    """The outcome of one check."""

    check: str
    status: Severity
    summary: str
    advice: str | None = None
    """What to do about it, when there is something to do."""
    details: tuple[str, ...] = ()


class Skip(Exception):
    """Raised by a check that cannot run; the message says why."""


@dataclass
class DoctorContext:
    """What the checks share: the database, the keyring, and cached reads."""

    url: str
    conn: Conn | None
    """None when the server could not be reached (``connect_error`` says why)."""
    connect_error: str | None = None
    _migrations: MigrationState | None = field(default=None, repr=False)
    _secrets: list[SecretCount] | None = field(default=None, repr=False)

    def connection(self) -> Conn:
        if self.conn is None:
            raise Skip("the server is not reachable")
        return self.conn

    def keyring(self) -> Keyring:
        try:
            return keyring()
        except CodingAgentDbError as exc:
            raise Skip(str(exc)) from None

    async def migrations(self) -> MigrationState:
        self.connection()
        if self._migrations is None:
            self._migrations = await asyncio.to_thread(migration_state, self.url)
        return self._migrations

    async def secrets(self) -> list[SecretCount]:
        """Stored secrets per format and key, labelled against the keyring."""
        if not (await self.migrations()).applied:
            raise Skip("no schema yet")
        if self._secrets is None:
            try:
                ring: Keyring | None = keyring()
            except CodingAgentDbError:
                ring = None  # the counts stay unlabelled; check_encryption_key says why
            self._secrets = await secret_counts(self.connection(), ring)
        return self._secrets


Check = Callable[[DoctorContext], Awaitable[Finding]]


def where(url: str) -> str:
    """``host:port/database`` of a URL, without user or password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"


async def check_server(ctx: DoctorContext) -> Finding:
    """The server answers, and which version it runs."""
    if ctx.conn is None:
        return Finding(
            check="server",
            status="fail",
            summary=f"cannot connect to {where(ctx.url)}: {ctx.connect_error}",
            advice="check POSTGRES_URL, that the server runs and accepts this client",
        )
    version: str = await queries.get_server_version(ctx.conn)
    major = int(version.split(".")[0].split()[0])
    if major < OLDEST_SUPPORTED_SERVER:
        return Finding(
            check="server",
            status="warn",
            summary=f"PostgreSQL {version} at {where(ctx.url)} is past its end of life",
            advice=f"upgrade to PostgreSQL {OLDEST_SUPPORTED_SERVER} or later",
        )
    return Finding(check="server", status="ok", summary=f"PostgreSQL {version} at {where(ctx.url)}")


async def check_schema(ctx: DoctorContext) -> Finding:
    """Every migration of this package is applied, and none unknown to it."""
    state = await ctx.migrations()
    if state.pending:
        return Finding(
            check="schema",
            status="fail",
            summary=f"{len(state.pending)} of {len(state.applied) + len(state.pending)} "
            "migrations pending",
            advice="apply them: coding-agent-db migrate (--dry-run lists them)",
            details=tuple(state.pending),
        )
    if state.unknown:
        return Finding(
            check="schema",
            status="warn",
            summary=f"{state.unknown} applied migrations are unknown to this version "
            "of coding-agent-db",
            advice="a newer version migrated this database: upgrade the package",
        )
    return Finding(
        check="schema", status="ok", summary=f"current ({len(state.applied)} migrations applied)"
    )


async def check_migration_lock(ctx: DoctorContext) -> Finding:
    """No migration lock left behind by a killed migration."""
    lock = await migration_lock(ctx.connection())
    if lock is None:
        return Finding(check="migration lock", status="ok", summary="not held")
    age = datetime.now(UTC) - lock.locked_at
    since = f"since {lock.locked_at:%Y-%m-%d %H:%M:%S} UTC ({int(age.total_seconds() // 60)} min)"
    if age < STALE_LOCK_AFTER:
        return Finding(
            check="migration lock",
            status="warn",
            summary=f"held by process {lock.pid} {since}: a migration is probably running",
            advice="wait for it to finish, then run doctor again",
        )
    return Finding(
        check="migration lock",
        status="fail",
        summary=f"stale: held by process {lock.pid} {since}",
        advice="if no migration is running (a killed one left it), remove it: "
        "coding-agent-db break-lock",
    )


async def check_encryption_key(ctx: DoctorContext) -> Finding:
    """ENCRYPTION_KEY (with the previous keys) opens a sample of the stored secrets."""
    conn = ctx.connection()
    try:
        ring = keyring()
    except CodingAgentDbError as exc:
        return Finding(check="encryption key", status="fail", summary=str(exc))
    if not (await ctx.migrations()).applied:
        raise Skip("no schema yet")
    opened = 0
    failed: list[str] = []
    for table in SECRET_TABLES:
        rows = [
            row
            async for row in getattr(queries, table.list_query)(
                conn, batch_size=SAMPLE_PER_TABLE, **first_position(table)
            )
        ]
        for row in rows:
            for column in table.columns:
                if row[column] is None:
                    continue
                try:
                    ring.decrypt(row[column], table.context(row, column))
                    opened += 1
                except DecryptionError as exc:
                    failed.append(f"{table.name}.{column}:{row['id']}: {exc}")
    sampled = opened + len(failed)
    if failed:
        return Finding(
            check="encryption key",
            status="fail",
            summary=f"{len(failed)} of {sampled} sampled values do not decrypt",
            advice="put the key they were written with in ENCRYPTION_KEYS_PREVIOUS; "
            "values altered or moved between rows cannot be recovered",
            details=tuple(failed[:SHOWN]),
        )
    if sampled == 0:
        return Finding(
            check="encryption key", status="ok", summary=f"key {ring.current.id}; no secrets stored"
        )
    return Finding(
        check="encryption key",
        status="ok",
        summary=f"key {ring.current.id} opens all {sampled} sampled values",
    )


def _total(counts: list[SecretCount]) -> int:
    return sum(c.count for c in counts)


def _where(counts: list[SecretCount]) -> list[str]:
    return [
        f"{c.table_name}.{c.column_name}: {c.count}" + (f" (key {c.key_id})" if c.key_id else "")
        for c in counts
    ]


async def check_legacy_values(ctx: DoctorContext) -> Finding:
    """No value left in the TypeScript app's unauthenticated format (unless configured)."""
    counts = await ctx.secrets()
    legacy = [c for c in counts if c.format == "legacy"]
    if not legacy:
        return Finding(check="legacy values", status="ok", summary="no legacy values")
    if ctx.keyring().format == "legacy":
        return Finding(
            check="legacy values",
            status="ok",
            summary=f"{_total(legacy)} legacy values; ENCRYPTION_FORMAT=legacy writes more",
            advice="once the TypeScript app no longer shares the database, unset "
            "ENCRYPTION_FORMAT and run coding-agent-db rotate-keys",
        )
    return Finding(
        check="legacy values",
        status="warn",
        summary=f"{_total(legacy)} values still in the legacy format (unauthenticated)",
        advice="move them to the authenticated format: coding-agent-db rotate-keys",
        details=tuple(_where(legacy)),
    )


async def check_key_ids(ctx: DoctorContext) -> Finding:
    """Every value is under the current key: none under a previous or unknown one."""
    ctx.keyring()
    counts = await ctx.secrets()
    unknown = [c for c in counts if c.key == "not configured" or c.format == "unrecognised"]
    previous = [c for c in counts if c.key == "previous"]
    if unknown:
        return Finding(
            check="key ids",
            status="fail",
            summary=f"{_total(unknown)} values under keys that are not configured, "
            "or in no known format",
            advice="add the missing key to ENCRYPTION_KEYS_PREVIOUS (its id is shown)",
            details=tuple(_where(unknown)),
        )
    if previous:
        return Finding(
            check="key ids",
            status="warn",
            summary=f"{_total(previous)} values still under a previous key",
            advice="re-encrypt them: coding-agent-db rotate-keys; then drop the old key "
            "from ENCRYPTION_KEYS_PREVIOUS",
            details=tuple(_where(previous)),
        )
    return Finding(check="key ids", status="ok", summary="every v1 value is under the current key")


async def check_legacy_reads(ctx: DoctorContext) -> Finding:
    """ENCRYPTION_LEGACY_READS matches what is stored: on while legacy values remain."""
    legacy = [c for c in await ctx.secrets() if c.format == "legacy"]
    reads_on = ctx.keyring().legacy_reads
    if legacy and not reads_on:
        return Finding(
            check="legacy reads",
            status="fail",
            summary=f"{_total(legacy)} legacy values are unreadable: ENCRYPTION_LEGACY_READS=off",
            advice="turn legacy reads back on, run coding-agent-db rotate-keys, then switch off",
            details=tuple(_where(legacy)),
        )
    if not legacy and reads_on:
        return Finding(
            check="legacy reads",
            status="ok",
            summary="on, and no legacy value is stored",
            advice="ENCRYPTION_LEGACY_READS=off is safe: an old ciphertext planted from a "
            "backup is then refused",
        )
    state = "on: legacy values remain" if reads_on else "off"
    return Finding(check="legacy reads", status="ok", summary=state)


async def check_pooler(ctx: DoctorContext) -> Finding:
    """Named prepared statements are never used through a transaction-mode pooler."""
    ctx.connection()
    report = await check_pooling(ctx.url)
    if report.transaction_pooler:
        how = "detected" if report.pooler_detected else "configured (POSTGRES_POOLER)"
        return Finding(
            check="pooler",
            status="ok",
            summary=f"transaction-mode pooler {how}: unnamed statements, no statement cache",
        )
    if report.configured == "none" and await pooler_in_front(ctx.url):
        return Finding(
            check="pooler",
            status="fail",
            summary="a pooler is in front of the server, but POSTGRES_POOLER=none keeps "
            "the statement cache on",
            advice="unset POSTGRES_POOLER (auto-detects) or set it to transaction",
        )
    cache = "on" if report.statement_cache else "off (POSTGRES_STATEMENT_CACHE_SIZE=0)"
    return Finding(
        check="pooler", status="ok", summary=f"direct connection; statement cache {cache}"
    )


async def check_notification_queue(ctx: DoctorContext) -> Finding:
    """The NOTIFY queue of push (follow_*) drains: no listener sits in a transaction."""
    usage: float = await queries.get_notification_queue_usage(ctx.connection())
    summary = f"{usage:.1%} of the server's notification queue in use"
    if usage < 0.5:
        return Finding(check="notify queue", status="ok", summary=summary)
    return Finding(
        check="notify queue",
        status="warn",
        summary=summary,
        advice="a session that LISTENs is holding a transaction open (pg_stat_activity, "
        "state 'idle in transaction'): end it, or the queue fills and NOTIFY fails",
    )


CHECKS: list[Check] = [
    check_server,
    check_schema,
    check_migration_lock,
    check_pooler,
    check_notification_queue,
    check_encryption_key,
    check_legacy_values,
    check_legacy_reads,
    check_key_ids,
]
"""The checks ``doctor`` runs, in order."""


async def run_checks(ctx: DoctorContext, checks: list[Check] | None = None) -> list[Finding]:
    """Run ``checks`` (default: ``CHECKS``) in order; one failing never stops the others."""
    findings = []
    for check in CHECKS if checks is None else checks:
        name = (check.__name__.removeprefix("check_")).replace("_", " ")
        try:
            findings.append(await check(ctx))
        except Skip as reason:
            findings.append(Finding(check=name, status="skip", summary=f"skipped: {reason}"))
        except Exception as exc:  # a broken check is a finding, not the end of the report
            findings.append(
                Finding(check=name, status="fail", summary=f"{type(exc).__name__}: {exc}")
            )
    return findings
