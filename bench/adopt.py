"""``make bench-adopt``: adopt a TypeScript-app database of 100k tasks, with the app writing.

Builds the app's schema from its real drizzle migrations (tests/drizzle/),
fills it in bulk with rows shaped as the app writes them (2000 users, 50
tasks each with a log of ``--log-entries`` entries and a sub-agent, 2
messages per task without user_id, keys, accounts, connectors, settings,
API tokens), then runs ``adopt()`` while a client writes the app's way
(a message insert without user_id and a log append, back to back).

Reported: rows adopted per second (every row of the 8 tables over the
adoption's wall time), each step's time (a step holds its locks for its
whole transaction), the longest write-blocking step, and the longest any of
the app's writes waited (what the app feels of the locks).

The server is ``BENCH_POSTGRES_URL``, else ``POSTGRES_URL``, else an
embedded PostgreSQL; a database of its own is created there and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiosql
import asyncpg
import psycopg
from psycopg import sql
from tests.adoption import build_app_schema, legacy_encrypt

from bench.workload import server
from coding_agent_db.adopt import adopt, format_report
from coding_agent_db.sql import DirectAsyncpgAdapter

SEED: Any = aiosql.from_path(Path(__file__).parent / "adopt_sql", DirectAsyncpgAdapter)


@contextmanager
def app_database() -> Iterator[str]:
    """An empty database on the benchmark server, dropped afterwards."""
    with server() as admin_url:
        name = f"cadb_bench_adopt_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        parts = admin_url.split("?", 1)
        url = parts[0].rsplit("/", 1)[0] + f"/{name}" + (f"?{parts[1]}" if len(parts) > 1 else "")
        try:
            yield url
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


async def seed(url: str, users: int, tasks_per_user: int, log_entries: int) -> None:
    await build_app_schema(url)
    conn = await asyncpg.connect(url)
    try:
        ciphertext = legacy_encrypt("gho_" + "x" * 36, secrets.token_hex(32))
        await SEED.seed_app_users(conn, user_count=users, ciphertext=ciphertext)
        await SEED.seed_app_user_extras(conn)
        await SEED.seed_app_tasks(conn, tasks_per_user=tasks_per_user, log_entries=log_entries)
        await SEED.analyze_app_tables(conn)
    finally:
        await conn.close()


async def app_writes(url: str, users: int, stop: asyncio.Event) -> tuple[int, float]:
    """The app's writes, back to back until ``stop``; returns (writes, longest wait in s)."""
    conn = await asyncpg.connect(url)
    entry = json.dumps([{"type": "info", "message": "still running", "timestamp": "2025-01-01"}])
    writes, longest = 0, 0.0
    try:
        while not stop.is_set():
            task_id = f"user-{writes // 2 % users + 1}-task-1"
            started = time.perf_counter()
            await SEED.app_write_message(conn, id=f"live-{writes}", task_id=task_id)
            between = time.perf_counter()
            await SEED.app_write_log(conn, task_id=task_id, entries=entry)
            ended = time.perf_counter()
            longest = max(longest, between - started, ended - between)
            writes += 2
            await asyncio.sleep(0.005)
    finally:
        await conn.close()
    return writes, longest


async def run(users: int, tasks_per_user: int, log_entries: int) -> int:
    with app_database() as url:
        started = time.perf_counter()
        await seed(url, users, tasks_per_user, log_entries)
        print(f"seeded in {time.perf_counter() - started:.1f} s")
        stop = asyncio.Event()
        writer = asyncio.create_task(app_writes(url, users, stop))
        try:
            report = await asyncio.to_thread(adopt, url)
        finally:
            stop.set()
        writes, longest_wait = await writer
        print(format_report(report))
        rows = sum(report.rows_before.values())
        print()
        rate = rows / report.seconds
        print(f"rows adopted: {rows} in {report.seconds:.1f} s = {rate:,.0f} rows/s")
        blocking = report.longest_blocking_step
        if blocking is not None:
            print(f"longest write-blocking step: {blocking.name} {blocking.seconds * 1000:.0f} ms")
        print(
            f"app writes during adoption: {writes}, longest wait {longest_wait * 1000:.0f} ms "
            "(one statement)"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--tasks-per-user", type=int, default=50)
    parser.add_argument("--log-entries", type=int, default=20)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.users, args.tasks_per_user, args.log_entries))


if __name__ == "__main__":
    sys.exit(main())
