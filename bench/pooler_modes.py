"""Two app processes behind PgBouncer (transaction mode): what each client configuration gets.

``python -m bench.pooler_modes MODE [CALLS]`` with MODE ``stock`` (asyncpg's
defaults), ``unnamed`` (statement_cache_size=0) or ``package`` (this package's
defaults). Needs PgBouncer installed and ``BENCH_POSTGRES_URL`` (else the
local server on 127.0.0.1:5432). Prints calls, wrong results, errors by type,
deletes nobody issued and acknowledged deletes that were lost (README, "Production").
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import create_database, drop_database
from tests.pgbouncer import running_pgbouncer, through
from tests.test_faults import faults

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from coding_agent_db.migrate import apply_migrations

REPO = Path(__file__).resolve().parents[1]


async def _setup(url: str, calls: int) -> list[dict[str, Any]]:
    pool = await cadb.create_pool(url)
    specs = []
    try:
        for seed in range(2):
            user = await cadb.upsert_user(
                cadb.NewUser(
                    provider="github",
                    external_id=new_id(),
                    access_token=secrets.token_hex(8),
                    username="bench",
                ),
                conn=pool,
            )
            keep, victims = [new_id() for _ in range(10)], [new_id() for _ in range(200)]
            await faults.insert_raw_tasks(pool, user_id=user.id, ids=keep + victims)
            specs.append(
                {"user_id": user.id, "keep": keep, "victims": victims, "calls": calls, "seed": seed}
            )
    finally:
        await pool.close()
    return specs


async def _deleted(url: str, user_id: str) -> set[str]:
    pool = await cadb.create_pool(url)
    try:
        return {row["id"] async for row in faults.list_deleted_task_ids(pool, user_id=user_id)}
    finally:
        await pool.close()


def main() -> None:
    mode, calls = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    server = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("ENCRYPTION_KEY", secrets.token_hex(32))  # a throwaway database
    name = f"cadb_pooler_{secrets.token_hex(4)}"
    url = create_database(server, name)
    try:
        apply_migrations(url)
        specs = asyncio.run(_setup(url, calls))
        with running_pgbouncer(server, pool_size=2) as port:
            pooled = through(port, url)
            children = [
                subprocess.Popen(  # noqa: S603 - the project's own module
                    [sys.executable, "-m", "tests.pooler_workload", pooled, mode, json.dumps(s)],
                    cwd=REPO,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for s in specs
            ]
            outcomes = [json.loads(child.communicate()[0]) for child in children]
        unissued = lost = 0
        errors: dict[str, int] = {}
        for spec, outcome in zip(specs, outcomes, strict=True):
            deleted = asyncio.run(_deleted(url, spec["user_id"]))
            unissued += len(deleted - set(outcome["deleted"]))
            lost += len(set(outcome["deleted"]) - deleted)
            for kind, count in outcome["errors"].items():
                errors[kind] = errors.get(kind, 0) + count
        report = {
            "mode": mode,
            "calls": sum(o["calls"] for o in outcomes),
            "wrong": sum(len(o["wrong"]) for o in outcomes),
            "errors": errors,
            "unissued_writes": unissued,
            "lost_acknowledged_deletes": lost,
        }
        print(json.dumps(report))
    finally:
        drop_database(server, name)


if __name__ == "__main__":
    main()
