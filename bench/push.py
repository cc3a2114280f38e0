"""``make bench``, part 3: push (``follow_task_logs``), its latency and what it costs an append.

- Latency: 50 tasks, each followed by one follower, an agent per task
  appending one entry at a time (about 400 appends/s in all); for every
  entry, the time from its append returning (committed) to its follower
  holding it. p50 and p99 over all entries; entries missed are counted.
- Cost: the mean of one-entry appends on one connection with migration
  0042's notify trigger switched off, on with nobody listening, and on with
  the listener of a follower connected.

The server is ``BENCH_POSTGRES_URL``, else ``POSTGRES_URL``, else an
embedded PostgreSQL; a database of its own is created there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiosql
import msgspec

import coding_agent_db as cadb
from bench.scaling import mean_ms, new_user
from bench.workload import bench_database
from coding_agent_db.sql import DirectAsyncpgAdapter

PUSH: Any = aiosql.from_path(Path(__file__).parent / "queries" / "push.sql", DirectAsyncpgAdapter)


class PushFigures(msgspec.Struct):
    followers: int
    entries: int
    missed: int
    appends_per_s: float
    latency_p50_ms: float
    latency_p99_ms: float
    append_without_notify_ms: float
    append_notify_no_listener_ms: float
    append_notify_listening_ms: float


async def latencies(user_id: str, tasks: int, appends: int) -> tuple[list[float], int, float]:
    """Commit-to-follower times (ms) of every entry, entries missed, appends per second."""
    created = [
        await cadb.create_task(user_id=user_id, task=cadb.NewTask(prompt=f"push {n}"))
        for n in range(tasks)
    ]
    committed: dict[str, float] = {}
    seen: list[float] = []
    missed = 0

    async def follower(task_id: str) -> None:
        nonlocal missed
        got = 0
        async for batch in cadb.follow_task_logs(user_id=user_id, task_id=task_id):
            now = time.perf_counter()
            for entry in batch:
                at = committed.get(entry.message)
                if at is None:  # held before its append returned: counts as 0
                    seen.append(0.0)
                else:
                    seen.append((now - at) * 1000)
            got += len(batch)
        missed += appends - got

    async def agent(task_id: str) -> None:
        for n in range(appends):
            line = f"{task_id}:{n}"
            await cadb.append_task_log(
                user_id=user_id, task_id=task_id, entry=cadb.LogEntry(type="info", message=line)
            )
            committed[line] = time.perf_counter()
            await asyncio.sleep(0.1)
        await cadb.update_task_status(user_id=user_id, task_id=task_id, status="completed")

    followers = [asyncio.create_task(follower(task.id)) for task in created]
    await connected(followers)
    started = time.perf_counter()
    await asyncio.gather(*(agent(task.id) for task in created))
    rate = tasks * appends / (time.perf_counter() - started)
    await asyncio.gather(*followers)
    return seen, missed, rate


async def connected(followers: list[asyncio.Task[Any]]) -> None:
    """Until the followers' listener is connected; a follower's failure is raised."""
    ready = asyncio.create_task(cadb.follow.listener().connected.wait())
    done, _ = await asyncio.wait(
        [ready, *followers], timeout=30, return_when=asyncio.FIRST_COMPLETED
    )
    for task in done:
        task.result()
    if ready not in done:
        ready.cancel()
        raise TimeoutError("the followers' listener did not connect within 30 s")


async def append_costs(url: str, user_id: str, appends: int) -> tuple[float, float, float]:
    """Mean ms of an append: no notify, notify without a listener, notify with one."""
    pool = await cadb.create_pool(url)
    try:
        async with pool.acquire() as conn:
            task = await cadb.create_task(user_id=user_id, task=cadb.NewTask(prompt="c"), conn=conn)
            entry = cadb.LogEntry(type="info", message="x" * 60)

            async def append() -> None:
                await cadb.append_task_log(user_id=user_id, task_id=task.id, entry=entry, conn=conn)

            cadb.close_listener()
            await PUSH.disable_notify(conn)
            without = await mean_ms(append, appends)
            await PUSH.enable_notify(conn)
            no_listener = await mean_ms(append, appends)
            follower = cadb.follow_task_logs(user_id=user_id, task_id=task.id, after=2**40)

            async def first() -> list[cadb.LogEntry]:
                return await anext(follower)

            reading = asyncio.create_task(first())
            await connected([reading])
            listening = await mean_ms(append, appends)
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            await follower.aclose()
    finally:
        await pool.close()
    return without, no_listener, listening


async def measure(url: str, tasks: int, appends: int) -> PushFigures:
    os.environ["POSTGRES_URL"] = url
    os.environ["POSTGRES_LISTEN_URL"] = url  # a direct server: a pooler is refused
    os.environ.setdefault("ENCRYPTION_KEY", secrets.token_hex(32))
    async with cadb.connection() as conn:
        user_id = await new_user(conn, "push")
    seen, missed, rate = await latencies(user_id, tasks, appends)
    costs = await append_costs(url, user_id, appends * 5)
    cuts = statistics.quantiles(seen, n=100)
    cadb.close_listener()
    await cadb.close_pool()
    return PushFigures(tasks, len(seen), missed, rate, cuts[49], cuts[98], *costs)


def render(figures: PushFigures) -> str:
    return "\n".join(
        [
            f"push: {figures.entries:,} entries to {figures.followers} followers"
            f" at {figures.appends_per_s:.0f}"
            f" appends/s, {figures.missed} missed",
            f"  commit to follower  p50 {figures.latency_p50_ms:.2f} ms"
            f"  p99 {figures.latency_p99_ms:.2f} ms",
            f"  append: without notify {figures.append_without_notify_ms:.3f} ms,"
            f" notify and nobody listening {figures.append_notify_no_listener_ms:.3f} ms,"
            f" notify and 1 listener {figures.append_notify_listening_ms:.3f} ms",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--appends", type=int, default=60, help="per task")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with bench_database() as url:
        figures = asyncio.run(measure(url, args.tasks, args.appends))
    print(render(figures))
    if args.json:
        args.json.write_bytes(msgspec.json.encode(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
