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
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from coding_agent_db.boundary import boundary
from coding_agent_db.config import database_url, env_int
from coding_agent_db.models import PostgresUrl

__all__ = [
    "Conn",
    "Connection",
    "close_pool",
    "connection",
    "create_pool",
    "db",
    "get_pool",
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


async def _init_connection(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    # jsonb in binary format: msgspec writes and reads the bytes directly,
    # with no str round trip. Values are Python objects, Structs included.
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        format="binary",
    )


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Pool reset hook: nothing to reset (see the module docstring)."""


@boundary
async def create_pool(url: PostgresUrl | None = None) -> asyncpg.Pool[asyncpg.Record]:
    """A new pool set up like the singleton's: jsonb codecs, no reset round trip.

    ``url`` defaults to ``POSTGRES_URL``; sizes come from ``POSTGRES_POOL_MIN``
    / ``POSTGRES_POOL_MAX`` and the statement cache from
    ``POSTGRES_STATEMENT_CACHE_SIZE`` (0 behind a transaction-mode pooler).
    For code that manages its own pool (another database, a test); pass it as ``conn=``.
    """
    max_size = env_int("POSTGRES_POOL_MAX", 10, minimum=1)
    pool = await asyncpg.create_pool(
        url or database_url(),
        min_size=min(env_int("POSTGRES_POOL_MIN", 1), max_size),
        max_size=max_size,
        statement_cache_size=env_int("POSTGRES_STATEMENT_CACHE_SIZE", 1024),
        init=_init_connection,
        reset=_keep_session,
    )
    assert pool is not None
    return pool


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
                await asyncio.wait_for(self.pool.close(), _CLOSE_TIMEOUT)
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
    async with pool.acquire() as conn:
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
        async with conn.acquire() as held, held.transaction():
            yield held
    else:
        async with conn.transaction():
            yield conn
