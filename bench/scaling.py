"""``make bench``, part 2: what the costs that could grow with the data do as it grows.

Through the public API, on one connection, in a database of its own:

- log appends and reads at 0, 1k, 10k and 100k entries in the task's log:
  the mean of ``--appends`` appends of one entry (and the WAL bytes each
  wrote, from ``pg_current_wal_lsn()``), a poll for the newest entries
  (``get_task_logs(after=N)``), and ``get_task`` with the whole log;
- ``check_rate_limit`` and ``create_task`` p50/p99 for a user with 1M tasks
  of 1,000 other users in the table (dev/sql/seed.sql, as ``make sql-review``);
- ``list_tasks`` pages (the first, and one 5,000 tasks deep) at 10k tasks of
  one user.

The server is ``BENCH_POSTGRES_URL``, else ``POSTGRES_URL``, else an
embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosql
import asyncpg
import msgspec
from dev.sql_review import seed_sql

import coding_agent_db as cadb
from bench.workload import bench_database
from coding_agent_db.sql import DirectAsyncpgAdapter

SCALING: Any = aiosql.from_path(
    Path(__file__).parent / "queries" / "scaling.sql", DirectAsyncpgAdapter
)

LOG_SIZES = (0, 1_000, 10_000, 100_000)


class Scale(msgspec.Struct, frozen=True):
    """How much is measured, and against how many rows (the defaults: the issue's figures)."""

    appends: int = 500
    calls: int = 500
    max_log: int = 100_000
    other_users: int = 1_000
    tasks_per_other_user: int = 1_000
    own_tasks: int = 10_000


LINE = "npm test: " + "PASS src/module.test.ts (1.2 s) " * 2


class LogFigures(msgspec.Struct):
    entries: int
    append_ms: float
    wal_bytes_per_append: float
    poll_ms: float
    get_task_ms: float


class Latency(msgspec.Struct):
    call: str
    p50_ms: float
    p99_ms: float


class Figures(msgspec.Struct):
    logs: list[LogFigures]
    latencies: list[Latency]


async def mean_ms(call: Callable[[], Awaitable[Any]], times: int, batches: int = 5) -> float:
    """Mean milliseconds per call: the median over ``batches`` batches (this machine is noisy)."""
    means = []
    for _ in range(batches):
        size = max(1, times // batches)
        started = time.perf_counter()
        for _ in range(size):
            await call()
        means.append((time.perf_counter() - started) / size * 1000)
    return statistics.median(means)


async def percentiles(name: str, call: Callable[[], Awaitable[Any]], times: int) -> Latency:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return Latency(name, cuts[49], cuts[98])


async def new_user(conn: cadb.Connection, name: str) -> str:
    user = await cadb.upsert_user(
        cadb.NewUser(
            provider="github", external_id=name, access_token=secrets.token_hex(), username=name
        ),
        conn=conn,
    )
    await cadb.set_setting(user_id=user.id, key="maxMessagesPerDay", value="999999999", conn=conn)
    return user.id


async def log_figures(conn: cadb.Connection, user_id: str, scale: Scale) -> list[LogFigures]:
    sizes = [size for size in LOG_SIZES if size <= scale.max_log]
    return [await one_log(conn, user_id, size, scale.appends) for size in sizes]


async def one_log(conn: cadb.Connection, user_id: str, size: int, appends: int) -> LogFigures:
    """Appends to, polls of and reads of a task whose log starts at ``size`` entries."""
    task = await cadb.create_task(user_id=user_id, task=cadb.NewTask(prompt="log"), conn=conn)
    if size:
        await SCALING.fill_task_log(conn, user_id=user_id, task_id=task.id, entry_count=size)
    entry = cadb.LogEntry(type="info", message=LINE)
    before: int = await SCALING.current_wal_lsn(conn)
    append_ms = await mean_ms(
        lambda: cadb.append_task_log(user_id=user_id, task_id=task.id, entry=entry, conn=conn),
        appends,
    )
    wal = (await SCALING.current_wal_lsn(conn) - before) / appends
    length = size + appends
    poll_ms = await mean_ms(
        lambda: cadb.get_task_logs(user_id=user_id, task_id=task.id, after=length - 5, conn=conn),
        appends,
    )
    get_ms = await mean_ms(
        lambda: cadb.get_task(user_id=user_id, task_id=task.id, conn=conn),
        max(3, min(appends, 2_000_000 // length)),
        batches=3,
    )
    return LogFigures(size, append_ms, wal, poll_ms, get_ms)


async def crowd(url: str, user_id: str, scale: Scale) -> None:
    """Other users' tasks and the user's own, in bulk.

    On a connection of its own, with the statements' text run directly: a
    bulk fill may take longer than the package's statement bound.
    """
    conn = await asyncpg.connect(url)
    try:
        await conn.fetchval(seed_sql.seed_users.sql, scale.other_users)
        await conn.fetchval(seed_sql.seed_tasks.sql, scale.tasks_per_other_user)
        await conn.fetchval(SCALING.insert_user_tasks.sql, user_id, scale.own_tasks)
        await conn.execute(SCALING.analyze_tasks.sql)
    finally:
        await conn.close()


async def crowded_latencies(conn: cadb.Connection, user_id: str, scale: Scale) -> list[Latency]:
    calls = scale.calls
    page = await cadb.list_tasks(user_id=user_id, limit=100, conn=conn)
    for _ in range(scale.own_tasks // 200 - 1):
        page = await cadb.list_tasks(user_id=user_id, limit=100, before=page[-1].cursor, conn=conn)
    deep = page[-1].cursor
    task = cadb.NewTask(prompt="crowded")
    return [
        await percentiles(
            "check_rate_limit", lambda: cadb.check_rate_limit(user_id=user_id, conn=conn), calls
        ),
        await percentiles(
            "create_task", lambda: cadb.create_task(user_id=user_id, task=task, conn=conn), calls
        ),
        await percentiles(
            "list_tasks first page (20)",
            lambda: cadb.list_tasks(user_id=user_id, limit=20, conn=conn),
            calls,
        ),
        await percentiles(
            f"list_tasks {scale.own_tasks // 2:,} deep (20)",
            lambda: cadb.list_tasks(user_id=user_id, limit=20, before=deep, conn=conn),
            calls,
        ),
    ]


async def measure(url: str, scale: Scale) -> Figures:
    os.environ.setdefault("ENCRYPTION_KEY", secrets.token_hex(32))
    pool = await cadb.create_pool(url)
    try:
        async with pool.acquire() as conn:
            user_id = await new_user(conn, "scaling")
            logs = await log_figures(conn, user_id, scale)
            await crowd(url, user_id, scale)
            latencies = await crowded_latencies(conn, user_id, scale)
    finally:
        await pool.close()
    return Figures(logs, latencies)


def render(figures: Figures, scale: Scale) -> str:
    base = figures.logs[0]
    lines = [
        f"log entries  {'append':>9} {'x of 0':>7} {'WAL/append':>11} "
        f"{'poll new':>9} {'get_task':>10}",
    ]
    for row in figures.logs:
        growth = row.append_ms / base.append_ms
        lines.append(
            f"{row.entries:>11,}  {row.append_ms:>6.3f} ms {growth:>6.2f}x"
            f" {row.wal_bytes_per_append:>8,.0f} B {row.poll_ms:>6.3f} ms"
            f" {row.get_task_ms:>7.2f} ms"
        )
    lines.append(
        f"({scale.appends} appends of one entry, in 5 batches: the median batch's mean;"
        " poll: get_task_logs(after=length-5))"
    )
    lines.append("")
    lines.append(
        f"with {scale.other_users * scale.tasks_per_other_user:,} tasks of"
        f" {scale.other_users:,} other users and {scale.own_tasks:,} of the user's own"
    )
    lines.append(f"{'call':<30}{'p50':>10}{'p99':>10}")
    for latency in figures.latencies:
        lines.append(f"{latency.call:<30}{latency.p50_ms:>7.3f} ms{latency.p99_ms:>7.3f} ms")
    lines.append(f"({scale.calls} calls each)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for field, default in zip(Scale.__struct_fields__, Scale.__struct_defaults__, strict=True):
        parser.add_argument(f"--{field.replace('_', '-')}", type=int, default=default)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    scale = Scale(**{field: getattr(args, field) for field in Scale.__struct_fields__})
    with bench_database() as url:
        figures = asyncio.run(measure(url, scale))
    print(render(figures, scale))
    if args.json:
        args.json.write_bytes(msgspec.json.encode(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
