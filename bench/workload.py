"""``make bench``: the reference workload of shared/WORKLOAD.md, through this
data layer and through hand-written asyncpg, on the same server and schema.

One "task run" is 89 statements: rate check, create task, fetch 2 keys and
decrypt them (legacy AES-256-CBC), start, 50 log appends, a user message, an
agent message streamed in 20 chunks, 10 polls of the whole task, 2 listings,
finish. Users: 100, each with 2 keys, picked round-robin.

The layer does the same work in 87 statements: its create_task inserts the
task and its prompt, the run's user message, in one statement that enforces
the daily limit atomically (the rate check is part of the insert,
lock_daily_usage(), migration 0010), where the baseline checks and inserts
separately, which concurrent requests can overrun; and its poller asks
get_task only for the log entries it does not have (``logs_after``).

Modes: (a) one connection, runs back to back; (b) a pool of 10 connections,
32 runs in flight, each run holding one connection (asyncpg's stock pool for
the baseline, without its reset round trip on release as the layer's,
``coding_agent_db.create_pool()`` for the layer). Reported:
median runs/s of ``--rounds`` rounds of ``--seconds`` each after a warm-up
round, rounds of the two implementations interleaved, and the ratio.

The server is ``BENCH_POSTGRES_URL``, else ``POSTGRES_URL``, else an embedded
PostgreSQL; the benchmark creates a database of its own there and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosql
import asyncpg
import msgspec
import psycopg
from psycopg import sql

import coding_agent_db as cadb
from coding_agent_db import crypto
from coding_agent_db.ids import new_id
from coding_agent_db.migrate import apply_migrations
from coding_agent_db.sql import DirectAsyncpgAdapter

BASELINE: Any = aiosql.from_path(Path(__file__).parent / "queries", DirectAsyncpgAdapter)
"""The baseline's SQL text (positional parameters); executed with plain asyncpg calls."""

USERS = 100
LOG_APPENDS = 50
STREAM_CHUNKS = 20
POLLS = 10
LISTINGS = 2
POOL_SIZE = 10
IN_FLIGHT = 32

PROMPT = "Also add a test"
MESSAGE = "x" * 60
DELTA = "y" * 40

Run = Callable[[Any, str], Awaitable[None]]


# ---------------------------------------------------------------- the two implementations


async def raw_run(conn: asyncpg.Connection[asyncpg.Record], user_id: str) -> None:
    """One task run, hand-written against asyncpg (JSON through the stdlib)."""
    keyring = crypto.keyring()
    await conn.fetchval(BASELINE.raw_rate_check.sql, user_id)
    task_id = new_id()
    await conn.execute(BASELINE.raw_create_task.sql, task_id, user_id, "Fix the bug", "claude")
    for row in await conn.fetch(BASELINE.raw_fetch_keys.sql, user_id):
        keyring.decrypt(
            row["value"], crypto.SecretContext("keys", "value", user_id, row["provider"])
        )
    await conn.execute(BASELINE.raw_start_task.sql, task_id, user_id)
    for _ in range(LOG_APPENDS):
        entry = [{"type": "info", "message": MESSAGE, "timestamp": datetime.now(UTC).isoformat()}]
        await conn.fetchval(BASELINE.raw_append_log.sql, task_id, user_id, entry)
    await conn.execute(BASELINE.raw_insert_message.sql, new_id(), task_id, user_id, "user", PROMPT)
    reply_id = new_id()
    await conn.execute(BASELINE.raw_insert_message.sql, reply_id, task_id, user_id, "agent", "")
    for _ in range(STREAM_CHUNKS):
        await conn.execute(BASELINE.raw_stream_delta.sql, reply_id, user_id, DELTA)
    for _ in range(POLLS):
        task = await conn.fetchrow(BASELINE.raw_poll_task.sql, task_id, user_id)
        assert task is not None
        assert isinstance(task["logs"], list)
    for _ in range(LISTINGS):
        await conn.fetch(BASELINE.raw_list_tasks.sql, user_id)
    await conn.execute(BASELINE.raw_finish_task.sql, task_id, user_id)


async def layer_run(conn: cadb.Connection, user_id: str) -> None:
    """One task run through coding_agent_db's public API, as the platform calls it.

    The rate check is create_task's own: it counts today's usage after locking
    the user, in the statement that inserts the task and its prompt, the
    run's user message (see rate_limit.py), so a run does not call
    check_rate_limit first or create_user_message after. The poller keeps the
    log it has and asks only for newer entries (``logs_after``).
    """
    task = await cadb.create_task(
        user_id=user_id, task=cadb.NewTask(prompt=PROMPT, selected_agent="claude"), conn=conn
    )
    keys = await cadb.reveal_keys(user_id=user_id, conn=conn)
    assert len(keys.values) == 2
    await cadb.update_task_status(user_id=user_id, task_id=task.id, status="processing", conn=conn)
    for _ in range(LOG_APPENDS):
        await cadb.append_task_log(
            user_id=user_id,
            task_id=task.id,
            entry=cadb.LogEntry(type="info", message=MESSAGE),
            conn=conn,
        )
    reply = await cadb.start_agent_message(user_id=user_id, task_id=task.id, conn=conn)
    for _ in range(STREAM_CHUNKS):
        await cadb.append_agent_message(
            user_id=user_id, message_id=reply.id, delta=DELTA, conn=conn
        )
    log: list[cadb.LogEntry] = []
    for _ in range(POLLS):
        polled = await cadb.get_task(
            user_id=user_id, task_id=task.id, logs_after=len(log), conn=conn
        )
        assert polled is not None
        assert polled.logs is not None
        log += polled.logs
    assert len(log) == LOG_APPENDS
    for _ in range(LISTINGS):
        await cadb.list_tasks(user_id=user_id, limit=20, conn=conn)
    await cadb.update_task_status(
        user_id=user_id, task_id=task.id, status="completed", progress=100, conn=conn
    )


# ---------------------------------------------------------------- setup


async def _stdlib_json(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=json.dumps, decoder=json.loads, format="text"
    )


async def seed_users(pool: asyncpg.Pool[asyncpg.Record]) -> list[str]:
    """100 users with 2 keys each, stored in the legacy format the workload decrypts."""
    os.environ["ENCRYPTION_FORMAT"] = "legacy"
    try:
        users = []
        for n in range(USERS):
            user = await cadb.upsert_user(
                cadb.NewUser(
                    provider="github",
                    external_id=f"bench-{n}",
                    access_token=f"gho_{secrets.token_hex(16)}",
                    username=f"bench{n}",
                ),
                conn=pool,
            )
            await cadb.set_key(
                user_id=user.id, provider="anthropic", value="sk-ant-" + "a" * 40, conn=pool
            )
            await cadb.set_key(
                user_id=user.id, provider="openai", value="sk-proj-" + "b" * 40, conn=pool
            )
            # The workload measures statements, not the daily limit.
            await cadb.set_setting(
                user_id=user.id, key="maxMessagesPerDay", value="999999999", conn=pool
            )
            users.append(user.id)
        return users
    finally:
        del os.environ["ENCRYPTION_FORMAT"]


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh database on the benchmark server, migrated, dropped afterwards."""
    with server() as admin_url:
        name = f"cadb_bench_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        parts = admin_url.split("?", 1)
        base = parts[0].rsplit("/", 1)[0]
        url = f"{base}/{name}" + (f"?{parts[1]}" if len(parts) > 1 else "")
        try:
            apply_migrations(url)
            yield url
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@contextmanager
def server() -> Iterator[str]:
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("POSTGRES_URL")
    if url:
        yield url
        return
    from coding_agent_db.embedded import embedded_server

    with (
        tempfile.TemporaryDirectory(prefix="cadb-bench-") as tmp,
        embedded_server(Path(tmp) / "pgdata", keep_data=False) as embedded_url,
    ):
        yield embedded_url


# ---------------------------------------------------------------- measurement


async def _baseline_cache_size(url: str) -> int:
    """asyncpg's default statement cache; none behind a transaction-mode pooler, as the layer."""
    return 0 if (await cadb.check_pooling(url)).transaction_pooler else 100


@asynccontextmanager
async def single_connection(url: str, layer: bool) -> AsyncIterator[Callable[[], Any]]:
    """Mode (a): one connection for every run."""
    if layer:
        pool = await cadb.create_pool(url)
        async with pool.acquire() as conn:
            yield lambda: _held(conn)
        await pool.close()
    else:
        raw = await asyncpg.connect(url, statement_cache_size=await _baseline_cache_size(url))
        await _stdlib_json(raw)
        yield lambda: _held(raw)
        await raw.close()


@asynccontextmanager
async def _held(conn: Any) -> AsyncIterator[Any]:
    yield conn


async def _no_reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """The baseline keeps no session state either: no reset round trip on release."""


@asynccontextmanager
async def pooled(url: str, layer: bool) -> AsyncIterator[Callable[[], Any]]:
    """Mode (b): a pool of 10; each run holds one connection."""
    if layer:
        pool = await cadb.create_pool(url)
    else:
        pool = await asyncpg.create_pool(
            url,
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            init=_stdlib_json,
            reset=_no_reset,
            statement_cache_size=await _baseline_cache_size(url),
        )
    yield pool.acquire
    await pool.close()


async def runs_per_second(
    run: Run, acquire: Callable[[], Any], users: Iterator[str], in_flight: int, seconds: float
) -> float:
    deadline = time.perf_counter() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with acquire() as conn:
                await run(conn, next(users))
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return done / (time.perf_counter() - started)


class ModeResult(msgspec.Struct):
    mode: str
    raw_runs_per_s: float
    layer_runs_per_s: float
    ratio: float
    raw_rounds: list[float]
    layer_rounds: list[float]


async def measure_mode(
    mode: str, url: str, users: list[str], rounds: int, seconds: float
) -> ModeResult:
    opener = single_connection if mode == "single" else pooled
    in_flight = 1 if mode == "single" else IN_FLIGHT
    cycle = itertools.cycle(users)
    results: dict[bool, list[float]] = {False: [], True: []}
    async with opener(url, False) as raw_acquire, opener(url, True) as layer_acquire:
        implementations = ((False, raw_run, raw_acquire), (True, layer_run, layer_acquire))
        for round_number in range(rounds + 1):  # round 0 warms up
            for layer, run, acquire in implementations:
                rate = await runs_per_second(run, acquire, cycle, in_flight, seconds)
                if round_number:
                    results[layer].append(rate)
    raw, ours = statistics.median(results[False]), statistics.median(results[True])
    return ModeResult(mode, raw, ours, ours / raw, results[False], results[True])


async def benchmark(url: str, rounds: int, seconds: float) -> list[ModeResult]:
    os.environ["POSTGRES_URL"] = url
    os.environ["POSTGRES_POOL_MAX"] = str(POOL_SIZE)
    os.environ["POSTGRES_POOL_MIN"] = str(POOL_SIZE)
    os.environ.setdefault("ENCRYPTION_KEY", secrets.token_hex(32))
    seeding = await cadb.create_pool(url)
    users = await seed_users(seeding)
    await seeding.close()
    return [await measure_mode(mode, url, users, rounds, seconds) for mode in ("single", "pool")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    with bench_database() as url:
        results = asyncio.run(benchmark(url, args.rounds, args.seconds))
    print(f"{'mode':<34}{'raw asyncpg':>14}{'coding_agent_db':>18}{'ratio':>8}")
    labels = {"single": "(a) 1 connection, back to back", "pool": "(b) pool of 10, 32 in flight"}
    for result in results:
        print(
            f"{labels[result.mode]:<34}{result.raw_runs_per_s:>10.1f} r/s"
            f"{result.layer_runs_per_s:>14.1f} r/s{result.ratio:>8.3f}"
        )
    print(f"median of {args.rounds} rounds x {args.seconds:g} s after a warm-up round")
    print("the layer: rate check and user message inside create_task; polls fetch new log entries")
    if args.json:
        args.json.write_bytes(msgspec.json.encode(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
