"""One app process of the pooler tests: a mixed workload on its own user's tasks.

Run as ``python -m tests.pooler_workload URL MODE SPEC_JSON`` where SPEC_JSON
holds ``user_id``, ``keep`` (task ids it reads and touches, never deletes),
``victims`` (task ids it deletes, one call each) and ``calls``. MODE is
``package`` (coding_agent_db with its default configuration, POSTGRES_URL=URL)
or, to measure the alternatives, raw asyncpg pools: ``stock`` (asyncpg's
default statement cache and names), ``unnamed`` (statement_cache_size=0).
Prints one JSON line: calls made, wrong results, errors by type, and the
victims whose delete was acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections import Counter
from typing import Any

import asyncpg

import coding_agent_db as cadb
from coding_agent_db.sql import queries

CONCURRENCY = 4


class Outcome:
    def __init__(self) -> None:
        self.calls = 0
        self.wrong: list[str] = []
        self.errors: Counter[str] = Counter()
        self.deleted: list[str] = []


async def _package_call(op: str, user_id: str, task_id: str, outcome: Outcome) -> None:
    if op == "get":
        task = await cadb.get_task(user_id=user_id, task_id=task_id)
        if task is None or task.id != task_id or task.user_id != user_id:
            outcome.wrong.append(f"get_task({task_id}) -> {task and task.id}")
    elif op == "touch":
        await cadb.touch_task_heartbeat(user_id=user_id, task_id=task_id)
    elif op == "list":
        page = await cadb.list_tasks(user_id=user_id, limit=5)
        if not page or any(summary.user_id != user_id for summary in page):
            outcome.wrong.append("list_tasks")
    elif op == "delete":
        await cadb.delete_task(user_id=user_id, task_id=task_id)
        outcome.deleted.append(task_id)


async def _raw_call(
    pool: asyncpg.Pool[asyncpg.Record], op: str, user_id: str, task_id: str, outcome: Outcome
) -> None:
    if op == "get":
        row = await queries.get_task(pool, user_id=user_id, task_id=task_id)
        if row is None or row["id"] != task_id:
            outcome.wrong.append(f"get_task({task_id})")
    elif op == "touch":
        if await queries.update_task_heartbeat(pool, user_id=user_id, task_id=task_id) != task_id:
            outcome.wrong.append(f"update_task_heartbeat({task_id})")
    elif op == "list":
        rows = [
            row
            async for row in queries.list_tasks(
                pool, user_id=user_id, before_created_at=None, before_id="", limit=5
            )
        ]
        if any(row["user_id"] != user_id for row in rows):
            outcome.wrong.append("list_tasks")
    elif op == "delete":
        if await queries.delete_task(pool, user_id=user_id, task_id=task_id) == task_id:
            outcome.deleted.append(task_id)
        else:
            outcome.wrong.append(f"delete_task({task_id})")


async def run(url: str, mode: str, spec: dict[str, Any]) -> Outcome:
    user_id: str = spec["user_id"]
    keep: list[str] = spec["keep"]
    victims: list[str] = list(spec["victims"])
    outcome = Outcome()
    pool: asyncpg.Pool[asyncpg.Record] | None = None
    if mode != "package":
        cache_size = 0 if mode == "unnamed" else 100
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=CONCURRENCY, statement_cache_size=cache_size
        )
    rng = random.Random(spec.get("seed", 0))  # noqa: S311 - picks operations, not secrets
    remaining = int(spec["calls"])

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            op = rng.choice(["get", "touch", "list", "get", "touch", "delete"])
            if op == "delete":
                if not victims:
                    op = "get"
                else:
                    task_id = victims.pop()
            if op != "delete":
                task_id = rng.choice(keep)
            outcome.calls += 1
            try:
                if pool is None:
                    await _package_call(op, user_id, task_id, outcome)
                else:
                    await _raw_call(pool, op, user_id, task_id, outcome)
            except cadb.NotFoundError:
                # The task exists and is the user's: NotFound is a wrong result.
                outcome.wrong.append(f"{op}({task_id}) -> NotFoundError")
            except Exception as exc:
                outcome.errors[type(exc).__qualname__] += 1

    try:
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    finally:
        if pool is not None:
            await pool.close()
        await cadb.close_pool()
    return outcome


def main() -> None:
    url, mode, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    os.environ["POSTGRES_URL"] = url
    outcome = asyncio.run(run(url, mode, spec))
    print(
        json.dumps(
            {
                "calls": outcome.calls,
                "wrong": outcome.wrong,
                "errors": dict(outcome.errors),
                "deleted": outcome.deleted,
            }
        )
    )


if __name__ == "__main__":
    main()
