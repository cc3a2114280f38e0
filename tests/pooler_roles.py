"""The two app processes of the issue's reproduction, driven line by line.

``python -m tests.pooler_roles ROLE MODE URL USER_ID TASK_ID``:

- ``hold-delete``: soft-delete TASK_ID in a transaction, print ``held``, and
  commit when a line arrives on stdin; print ``committed``.
- ``heartbeat``: for each line on stdin, touch TASK_ID's heartbeat once and
  print ``ok`` or the error's type.

MODE ``package`` runs coding_agent_db with its default configuration
(POSTGRES_URL=URL); ``stock`` runs the same queries on a raw asyncpg pool with
asyncpg's defaults, the configuration of the issue.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

import coding_agent_db as cadb
from coding_agent_db.sql import queries


def _reply(line: str) -> None:
    print(line, flush=True)


async def _next_line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


@asynccontextmanager
async def _database(mode: str, url: str) -> AsyncIterator[Any]:
    if mode == "package":
        try:
            yield await cadb.get_pool()
        finally:
            await cadb.close_pool()
    else:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            yield pool
        finally:
            await pool.close()


async def hold_delete(mode: str, url: str, user_id: str, task_id: str) -> None:
    async with _database(mode, url) as pool, cadb.transaction(pool) as tx:
        if mode == "package":
            await cadb.delete_task(user_id=user_id, task_id=task_id, conn=tx)
        else:
            await queries.delete_task(tx, user_id=user_id, task_id=task_id)
        _reply("held")
        await _next_line()
    _reply("committed")


async def heartbeat(mode: str, url: str, user_id: str, task_id: str) -> None:
    async with _database(mode, url) as pool:
        while await _next_line():
            try:
                if mode == "package":
                    await cadb.touch_task_heartbeat(user_id=user_id, task_id=task_id, conn=pool)
                else:
                    await queries.update_task_heartbeat(pool, user_id=user_id, task_id=task_id)
                _reply("ok")
            except Exception as exc:
                _reply(type(exc).__name__)


def main() -> None:
    role, mode, url, user_id, task_id = sys.argv[1:6]
    os.environ["POSTGRES_URL"] = url
    action = hold_delete if role == "hold-delete" else heartbeat
    asyncio.run(action(mode, url, user_id, task_id))


if __name__ == "__main__":
    main()
