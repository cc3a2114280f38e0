"""The exceptions this package raises.

Every message names what went wrong (a field, a variable, a limit) and never
the offending value: values may be secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Literal

import asyncpg
from yoyo.exceptions import LockTimeout

__all__ = [
    "CodingAgentDbError",
    "ConfigurationError",
    "DatabaseError",
    "DatabaseTimeoutError",
    "DatabaseUnavailableError",
    "DecryptionError",
    "InvalidTransitionError",
    "LimitExceededError",
    "MigrationLockedError",
    "NotFoundError",
    "RateLimitExceededError",
    "SchemaNotMigratedError",
    "TimedOut",
    "ValidationError",
    "connection_lost",
    "translate_driver_error",
    "user_must_exist",
]


class CodingAgentDbError(Exception):
    """Base class of every error raised on purpose by coding_agent_db."""


class ConfigurationError(CodingAgentDbError):
    """An environment variable is missing or malformed; the message names it."""


class ValidationError(CodingAgentDbError, ValueError):
    """Input was refused before any SQL was sent.

    ``field`` is the offending field's path (``"prompt"``, ``"entries[3].type"``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFoundError(CodingAgentDbError, LookupError):
    """A mutation found no row: it does not exist, or it is another user's."""


class InvalidTransitionError(CodingAgentDbError):
    """A change the row's state does not allow: a final task's status, a follow-up to a
    finished task, unlinking the account a user signs in with."""


class ConflictError(CodingAgentDbError):
    """A concurrent change won the race (e.g. two users merging one GitHub account);
    nothing was written. Retry if it is still wanted."""


class LimitExceededError(CodingAgentDbError):
    """A per-user cap (e.g. live API tokens) is reached."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class RateLimitExceededError(CodingAgentDbError):
    """The user's daily task + message limit is used up until ``reset_at``."""

    def __init__(self, *, total: int, reset_at: datetime) -> None:
        super().__init__(
            f"daily limit of {total} tasks and messages reached; resets at {reset_at.isoformat()}"
        )
        self.remaining = 0
        self.total = total
        self.reset_at = reset_at


class DecryptionError(CodingAgentDbError):
    """A stored secret cannot be decrypted: altered, moved, or under an unknown key."""


class DatabaseError(CodingAgentDbError):
    """The database did not serve the call: the base of the two errors below.

    ``statement`` names the query (``"get_task"``) or the step (``"connect"``,
    ``"commit"``) that failed. The driver's exception is ``__cause__``.
    """

    def __init__(self, message: str, *, statement: str) -> None:
        super().__init__(message)
        self.statement = statement


class DatabaseUnavailableError(DatabaseError):
    """The connection failed: refused, reset, its server process killed or shut
    down, too many connections, or a pooler error.

    A read that failed like this on a connection the call took itself has
    already been retried once. A write may or may not have been applied: see
    the README ("Retries") before retrying it.
    """


class DatabaseConflictError(DatabaseError, ConflictError):
    """A concurrent transaction changed the same rows first, so this statement
    could not be applied after it: a serialization failure or a deadlock (on
    a schema partitioned by user, a row an account merge moved to another
    partition). Nothing of the statement was written, and a transaction it ran
    in is aborted: retry the whole unit of work if it is still wanted.
    """


TimedOut = Literal["lock", "statement", "connect", "acquire", "deadline", "idle transaction"]


class DatabaseTimeoutError(DatabaseError, TimeoutError):
    """A bounded wait ran out; ``what`` says which, ``seconds`` its bound.

    ``lock``: a row or table lock was not granted within ``POSTGRES_LOCK_TIMEOUT``;
    ``statement``: the statement ran longer than ``POSTGRES_STATEMENT_TIMEOUT``;
    ``connect``: no connection within ``POSTGRES_CONNECT_TIMEOUT``;
    ``acquire``: no free pool connection within ``POSTGRES_ACQUIRE_TIMEOUT``;
    ``deadline``: the server did not answer at all (a dead network); the
    connection was dropped. Nothing was retried.
    """

    def __init__(self, what: TimedOut, *, statement: str, seconds: float | None) -> None:
        bound = f" within {seconds:g} s" if seconds is not None else ""
        super().__init__(f"{statement}: {what} timeout{bound}", statement=statement)
        self.what: TimedOut = what
        self.seconds = seconds


class MigrationLockedError(CodingAgentDbError, LockTimeout):  # type: ignore[misc]
    """yoyo's migration lock is held: by a running migration, or left by a killed one.

    ``pid`` is the holder's process id (on the machine that ran it), ``since``
    when it took the lock. A yoyo ``LockTimeout`` too, for code that catches that.
    """

    def __init__(self, *, pid: int, since: datetime) -> None:
        super().__init__(
            f"migrations are locked by process {pid} since {since.isoformat(timespec='seconds')}"
        )
        self.pid = pid
        self.since = since


# Client-side errors that say the input was wrong, not the connection.
_NOT_CONNECTION_LEVEL = (
    asyncpg.exceptions.DataError,
    asyncpg.exceptions.ClientConfigurationError,
    asyncpg.exceptions.UnsupportedClientFeatureError,
)

# The server ended the session or could not start one.
_SERVER_WENT_AWAY = (
    asyncpg.PostgresConnectionError,  # class 08 (and pgbouncer's protocol errors)
    asyncpg.exceptions.AdminShutdownError,  # pg_terminate_backend, fast shutdown
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,  # starting up, shutting down, recovery
    asyncpg.exceptions.IdleSessionTimeoutError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection failed (as opposed to the statement)."""
    if isinstance(exc, _NOT_CONNECTION_LEVEL):
        return False
    return isinstance(
        exc,
        (
            *_SERVER_WENT_AWAY,
            asyncpg.InterfaceError,  # "connection is closed", "another operation is in progress"
            asyncpg.exceptions.InternalClientError,  # protocol state broken by a dead socket
            OSError,  # refused, reset, unreachable, DNS
        ),
    )


def translate_driver_error(
    exc: BaseException,
    *,
    statement: str,
    lock_timeout: float | None = None,
    statement_timeout: float | None = None,
) -> DatabaseError | None:
    """The package error for a connection-level failure or a server-side timeout; None otherwise.

    The one place where driver failures become the package's errors (the
    adapter in ``sql`` and the context managers in ``pool`` call it). Errors
    about the statement itself (constraint violations, ...) return None and
    are left to the caller that knows what they mean (e.g. ``user_must_exist``).
    """
    if isinstance(exc, CodingAgentDbError):
        return None  # already the package's (a DatabaseTimeoutError is an OSError too)
    if isinstance(exc, asyncpg.exceptions.LockNotAvailableError):
        return DatabaseTimeoutError("lock", statement=statement, seconds=lock_timeout)
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
        return DatabaseTimeoutError("statement", statement=statement, seconds=statement_timeout)
    if isinstance(
        exc,
        asyncpg.exceptions.IdleInTransactionSessionTimeoutError
        | asyncpg.exceptions.TransactionTimeoutError,
    ):
        return DatabaseTimeoutError("idle transaction", statement=statement, seconds=None)
    if isinstance(
        exc,
        asyncpg.exceptions.SerializationError | asyncpg.exceptions.DeadlockDetectedError,
    ):
        return DatabaseConflictError(
            f"{statement}: a concurrent transaction changed the same rows; retry",
            statement=statement,
        )
    if connection_lost(exc):
        reason = type(exc).__name__
        return DatabaseUnavailableError(
            f"{statement}: the database connection failed ({reason})", statement=statement
        )
    return None


class SchemaNotMigratedError(CodingAgentDbError):
    """The database is behind this package: ``migration`` is not applied.

    ``missing`` is the table, view, column or function PostgreSQL did not find.
    """

    def __init__(self, *, migration: str, missing: str) -> None:
        super().__init__(
            f"the database schema is behind this package: migration {migration} is not "
            f"applied ({missing} is missing); apply the pending migrations with: "
            "coding-agent-db migrate (or yoyo apply), with POSTGRES_URL set"
        )
        self.migration = migration
        self.missing = missing


@contextmanager
def user_must_exist() -> Iterator[None]:
    """Around an insert of a user's row: an unknown user_id is NotFoundError, like a lookup's."""
    try:
        yield
    except asyncpg.ForeignKeyViolationError:
        raise NotFoundError("no such user") from None
