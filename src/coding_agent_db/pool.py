"""The lazy asyncpg pool, and the connection a unit of work holds.

``get_pool()`` creates the pool on first use from ``POSTGRES_URL``. A pool
belongs to the event loop that created it and is closed when ``asyncio.run()``
shuts that loop down; a later ``asyncio.run()`` in the same process gets a
pool of its own.

A unit of work (a request, an agent run) takes one connection with
``async with connection() as conn`` and passes ``conn=`` down to every call.
Releasing it costs no round trip: the pool's reset query (``RESET ALL``,
``UNLISTEN *`` ... on every release) is switched off, which is safe because
this package keeps no session state. It never runs ``SET`` (only ``SET LOCAL``
inside transactions), ``LISTEN``, session advisory locks or cursors outside a
transaction; an open transaction is still rolled back on release by asyncpg.
Code that hands a connection from here to other code must keep to the same rule.

Behind a transaction-mode pooler (PgBouncer, Supabase's or Neon's pooler) a
client connection is served by whichever server connection is free at each
transaction, so a named prepared statement may not exist there, or may be
another process's statement of the same name. The pool therefore detects a
pooler when it is created (the process id the server reports differs from
the one the connection was given: poolers hand out their own cancel keys), or
takes ``POSTGRES_POOLER``, and then uses unnamed statements only: asyncpg
parses, binds and executes an unnamed statement before the pooler may switch
server connections (no Sync in between), so it cannot run another one's.
Directly on PostgreSQL, statements are named and cached (the fast path), and
named per connection rather than per process, so an undetected pooler yields
an error, never a statement run in place of another.

Every wait is bounded (``DatabaseSettings``): lock and statement timeouts are
the server's own when connected directly (startup parameters, no round trip),
and enforced per statement by the client behind a pooler (which refuses
startup parameters); the client also gives up on a server that stops
answering, and on connecting, acquiring, and dead peers (TCP keepalives).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from coding_agent_db.boundary import boundary
from coding_agent_db.config import (
    DatabaseSettings,
    PoolerMode,
    database_settings,
    database_url,
    env_int,
)
from coding_agent_db.errors import DatabaseTimeoutError, TimedOut, translate_driver_error
from coding_agent_db.models import PostgresUrl

__all__ = [
    "DEADLINE_GRACE",
    "Conn",
    "Connection",
    "PoolingReport",
    "check_pooling",
    "close_pool",
    "connection",
    "create_pool",
    "db",
    "get_pool",
    "pooler_in_front",
    "transaction",
]

Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
"""A connection taken from the pool (or opened by the caller)."""

Conn: TypeAlias = "Connection | asyncpg.Pool[asyncpg.Record]"
"""What every data function accepts as ``conn=``: a connection, or a pool to
take one from for the single call."""

_JSONB_BINARY_VERSION = b"\x01"
_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_BINARY_VERSION + _json_encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return _json_decode(memoryview(data)[1:])


DEADLINE_GRACE = 2.0
"""Seconds the client waits past ``POSTGRES_STATEMENT_TIMEOUT`` for a server
that enforces it itself before it drops the connection as dead."""

_KEEPALIVE_INTERVAL = 10
_KEEPALIVE_COUNT = 3


@dataclass(frozen=True)
class Profile:
    """What a pool was set up with: its settings, and whether a pooler sits in front."""

    settings: DatabaseSettings
    transaction_pooler: bool

    @property
    def client_timeout(self) -> float | None:
        """How long the client waits for one statement's answer (None: no bound)."""
        if not self.settings.statement_timeout:
            return None
        if self.transaction_pooler:
            return self.settings.statement_timeout
        return self.settings.statement_timeout + DEADLINE_GRACE

    @property
    def client_timeout_means(self) -> TimedOut:
        # Behind a pooler the client enforces the statement timeout itself;
        # directly, the server does, and the client's bound means a dead server.
        return "statement" if self.transaction_pooler else "deadline"


class _Connection(asyncpg.Connection):
    """asyncpg's connection, naming prepared statements per connection.

    asyncpg numbers statement names from one counter per process, so two
    processes use the same names; behind an undetected pooler one would run
    the other's statement. A random prefix per connection makes that an
    "unknown statement" error instead.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cadb_prefix = secrets.token_hex(6)
        self._cadb_counter = itertools.count(1)
        self._cadb_profile: Profile | None = None

    def _get_unique_id(self, prefix: str) -> str:
        return f"__cadb_{prefix}_{self._cadb_prefix}_{next(self._cadb_counter):x}__"


def _set_keepalive(conn: asyncpg.Connection[asyncpg.Record], idle: float) -> None:
    """TCP keepalives: a silent peer is noticed ~idle + 30 s later, idle or not."""
    transport = getattr(conn, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if not idle or sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (
        ("TCP_KEEPIDLE", max(1, int(idle))),
        ("TCP_KEEPINTVL", _KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", _KEEPALIVE_COUNT),
    ):
        if hasattr(socket, option):  # Linux names; other systems keep their defaults
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def _connection_init(profile: Profile) -> Any:
    async def init(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        if isinstance(conn, _Connection):
            conn._cadb_profile = profile
        _set_keepalive(conn, profile.settings.keepalive_idle)
        # jsonb in binary format: msgspec writes and reads the bytes directly,
        # with no str round trip. Values are Python objects, Structs included.
        await conn.set_type_codec(
            "jsonb",
            schema="pg_catalog",
            encoder=_encode_jsonb,
            decoder=_decode_jsonb,
            format="binary",
        )

    return init


class _Pool(asyncpg.Pool):
    """asyncpg's pool, carrying the profile it was created with."""

    def __init__(self, *args: Any, profile: Profile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cadb_profile = profile


def profile_of(conn: Any) -> Profile:
    """The profile ``conn`` (a pool, or a connection from one) was set up with.

    A connection this package did not open gets the environment's settings.
    """
    profile: Profile | None = getattr(conn, "_cadb_profile", None)
    return profile or Profile(database_settings(), transaction_pooler=False)


@contextmanager
def translated(statement: str, profile: Profile | None = None) -> Iterator[None]:
    """Driver failures inside the block become the package's errors (see ``errors``)."""
    try:
        yield
    except Exception as exc:
        raise package_error(exc, statement, profile)  # noqa: B904 - its __cause__ is set


def package_error(exc: Exception, statement: str, profile: Profile | None) -> Exception:
    """What to raise for a failure of ``statement``: the package's error, with ``exc``
    as its ``__cause__``, or ``exc`` itself when it is not the driver's to translate."""
    settings = profile.settings if profile is not None else None
    error = translate_driver_error(
        exc,
        statement=statement,
        lock_timeout=settings.lock_timeout if settings else None,
        statement_timeout=settings.statement_timeout if settings else None,
    )
    if error is None:
        return exc
    error.__cause__ = exc
    return error


def _server_timeouts(settings: DatabaseSettings) -> dict[str, str]:
    """Startup parameters that make the server enforce the timeouts (direct connections)."""
    return {
        "lock_timeout": f"{round(settings.lock_timeout * 1000)}ms",
        "statement_timeout": f"{round(settings.statement_timeout * 1000)}ms",
    }


_detected: dict[str, bool] = {}


async def _pooler_in_front(url: str, settings: DatabaseSettings) -> bool:
    """Whether a pooler sits between this process and PostgreSQL (cached per URL).

    A pooler gives each client a cancel key of its own, so the process id in
    it is not the server process that runs the client's statements.
    """
    if url in _detected:
        return _detected[url]
    from coding_agent_db.sql import queries  # sql imports this module

    with translated("connect"):
        try:
            probe = await asyncpg.connect(
                url, statement_cache_size=0, timeout=settings.connect_timeout
            )
        except TimeoutError as exc:
            raise DatabaseTimeoutError(
                "connect", statement="connect", seconds=settings.connect_timeout
            ) from exc
        try:
            given_pid = probe.get_server_pid()
            # In a transaction: a pooler keeps the same server for all of it.
            async with asyncio.timeout(settings.connect_timeout), probe.transaction():
                server_pid = await probe.fetchval(queries.get_backend_pid.sql)
        finally:
            probe.terminate()
    _detected[url] = server_pid != given_pid
    return _detected[url]


async def pooler_in_front(url: str) -> bool:
    """Whether a pooler sits in front of the server at ``url``, whatever POSTGRES_POOLER says."""
    return await _pooler_in_front(url, database_settings())


@dataclass(frozen=True)
class PoolingReport:
    """How pools connect to a database (for ``doctor`` and for operators)."""

    configured: PoolerMode
    """``POSTGRES_POOLER`` as set (``auto`` unless set)."""
    pooler_detected: bool | None
    """Whether a pooler was found in front of the server; None when not probed
    (``POSTGRES_POOLER`` says ``transaction`` or ``none``)."""
    transaction_pooler: bool
    """Whether pools treat the connection as going through a transaction-mode pooler."""
    statement_cache: bool
    """Whether named, cached prepared statements are used (the fast path)."""


@boundary
async def check_pooling(url: PostgresUrl | None = None) -> PoolingReport:
    """Whether a pooler is detected or configured, and whether the statement cache is on."""
    url = url or database_url()
    settings = database_settings()
    detected = None if settings.pooler != "auto" else await _pooler_in_front(url, settings)
    transaction_pooler = settings.pooler == "transaction" or bool(detected)
    return PoolingReport(
        configured=settings.pooler,
        pooler_detected=detected,
        transaction_pooler=transaction_pooler,
        statement_cache=not transaction_pooler and settings.statement_cache_size > 0,
    )


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Pool reset hook: nothing to reset (see the module docstring)."""


@boundary
async def create_pool(url: PostgresUrl | None = None) -> asyncpg.Pool[asyncpg.Record]:
    """A new pool set up like the singleton's: jsonb codecs, no reset round trip.

    ``url`` defaults to ``POSTGRES_URL``; sizes come from ``POSTGRES_POOL_MIN``
    / ``POSTGRES_POOL_MAX``, the rest from ``database_settings()`` (pooler,
    statement cache, timeouts, keepalives). For code that manages its own pool
    (another database, a test); pass it as ``conn=``.
    """
    url = url or database_url()
    settings = database_settings()
    max_size = env_int("POSTGRES_POOL_MAX", 10, minimum=1)
    min_size = min(env_int("POSTGRES_POOL_MIN", 1), max_size)
    report = await check_pooling(url)
    profile = Profile(settings, report.transaction_pooler)
    with translated("connect", profile):
        try:
            pool = await _Pool(
                url,
                profile=profile,
                min_size=min_size,
                max_size=max_size,
                statement_cache_size=settings.statement_cache_size if report.statement_cache else 0,
                # A pooler refuses startup parameters; the client bounds statements there.
                server_settings=None if report.transaction_pooler else _server_timeouts(settings),
                timeout=settings.connect_timeout,
                connection_class=_Connection,
                init=_connection_init(profile),
                reset=_keep_session,
                # What asyncpg.create_pool passes; _Pool is built directly to carry the profile.
                max_queries=50000,
                max_inactive_connection_lifetime=300.0,
                loop=None,
                record_class=asyncpg.Record,
            )
        except TimeoutError as exc:
            raise DatabaseTimeoutError(
                "connect", statement="connect", seconds=settings.connect_timeout
            ) from exc
    return pool


async def acquire(
    pool: asyncpg.Pool[asyncpg.Record], statement: str
) -> PoolConnectionProxy[asyncpg.Record]:
    """A connection from ``pool`` within ``POSTGRES_ACQUIRE_TIMEOUT``; package errors only."""
    profile = profile_of(pool)
    limit = profile.settings.acquire_timeout or None
    with translated(statement, profile):
        try:
            return await pool.acquire(timeout=limit)
        except TimeoutError as exc:
            raise DatabaseTimeoutError("acquire", statement=statement, seconds=limit) from exc


async def release(
    pool: asyncpg.Pool[asyncpg.Record], conn: PoolConnectionProxy[asyncpg.Record], statement: str
) -> None:
    """Give ``conn`` back (rolling back a transaction left open); package errors only."""
    profile = profile_of(pool)
    with translated(statement, profile):
        try:
            await pool.release(conn, timeout=profile.client_timeout)
        except TimeoutError as exc:
            raise DatabaseTimeoutError(
                "deadline", statement=statement, seconds=profile.client_timeout
            ) from exc


_CLOSE_TIMEOUT = 10.0


class _LoopPool:
    """A pool and the async generator that closes it when its loop shuts down.

    ``asyncio.run()`` calls ``loop.shutdown_asyncgens()`` before it closes the
    loop, which runs the ``finally`` of every suspended async generator
    (PEP 525). The pool is closed there, while its loop can still run the
    goodbyes: a second ``asyncio.run()`` then starts from a clean slate.
    """

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool
        self.closer = self._close_at_loop_shutdown()

    async def _close_at_loop_shutdown(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            try:
                async with asyncio.timeout(_CLOSE_TIMEOUT):
                    await self.pool.close()
            except TimeoutError:
                self.pool.terminate()
            except asyncio.CancelledError:
                self.pool.terminate()
                raise

    async def arm(self) -> None:
        await anext(self.closer)  # suspended at its yield, so the loop tracks it


_pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}
_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _forget_closed_loops() -> None:
    # Loops closed without shutdown_asyncgens(): their pools cannot run any
    # more I/O; drop them and let their sockets be collected.
    for loop in [loop for loop in _pools if loop.is_closed()]:
        del _pools[loop]
    for loop in [loop for loop in _locks if loop.is_closed()]:
        del _locks[loop]


@boundary
async def get_pool() -> asyncpg.Pool[asyncpg.Record]:
    """The pool of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    entry = _pools.get(loop)
    if entry is not None:
        return entry.pool
    _forget_closed_loops()
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        entry = _pools.get(loop)
        if entry is None:
            entry = _LoopPool(await create_pool())
            await entry.arm()
            _pools[loop] = entry
    return entry.pool


@boundary
async def close_pool() -> None:
    """Close the running loop's pool, if any; the next use creates a new one."""
    entry = _pools.pop(asyncio.get_running_loop(), None)
    if entry is not None:
        await entry.closer.aclose()


async def db(conn: Conn | None) -> Conn:
    """What a single statement runs on: the caller's ``conn``, else the pool."""
    return conn if conn is not None else await get_pool()


@boundary
@asynccontextmanager
async def connection() -> AsyncIterator[Connection]:
    """Hold one pool connection for a unit of work; pass it down as ``conn=``."""
    pool = await get_pool()
    conn = await acquire(pool, "connection")
    try:
        yield conn
    finally:
        await release(pool, conn, "connection")


@asynccontextmanager
async def _transaction_on(conn: Connection) -> AsyncIterator[Connection]:
    # BEGIN, COMMIT and ROLLBACK failures are the package's errors too.
    with translated("transaction", profile_of(conn)):
        async with conn.transaction():
            yield conn


@boundary
@asynccontextmanager
async def transaction(conn: Conn | None = None) -> AsyncIterator[Connection]:
    """A transaction on ``conn`` (a savepoint if one is already open).

    With no ``conn`` (or a pool), a connection is taken for the transaction's
    lifetime. Pass the yielded connection as ``conn=`` to run calls inside it.
    """
    if conn is None:
        conn = await get_pool()
    if isinstance(conn, asyncpg.Pool):
        held = await acquire(conn, "transaction")
        try:
            async with _transaction_on(held):
                yield held
        finally:
            await release(conn, held, "transaction")
    else:
        async with _transaction_on(conn):
            yield conn
