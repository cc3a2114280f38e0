"""The schema distributed by user, as Citus would distribute it, for the tests.

``partition_by_hash(url)`` turns a freshly migrated database into one where
every table is ``PARTITION BY HASH`` of its distribution column
(tests/queries/partitioning.sql): ``users`` by ``id``, every user-owned table
by ``user_id`` (co-located with its user), the identity tables by the
identity they are looked up by. ``TEST_SCHEMA=hash-partitioned`` runs the
whole suite on such a database (tests/conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiosql
import asyncpg

from coding_agent_db.sql import DirectAsyncpgAdapter

PARTITIONING: Any = aiosql.from_path(
    Path(__file__).parent / "queries" / "partitioning.sql", DirectAsyncpgAdapter
)

PARTITIONS = 8

DISTRIBUTION = {
    "users": "id",
    "accounts": "user_id",
    "keys": "user_id",
    "tasks": "user_id",
    "task_messages": "user_id",
    "task_log_pages": "user_id",
    "connectors": "user_id",
    "settings": "user_id",
    "api_tokens": "user_id",
    # Looked up by the identity alone: distributed by it, not co-located.
    "user_identities": "external_id",
    "account_identities": "external_user_id",
    "api_token_hashes": "token_hash",
}
"""Each table and the column it is distributed by."""

SCHEMA_SETTING = "TEST_SCHEMA"
HASH_PARTITIONED = "hash-partitioned"


def hash_partitioned_run() -> bool:
    """Whether this test run uses the hash-partitioned schema (``TEST_SCHEMA``)."""
    value = os.environ.get(SCHEMA_SETTING, "plain")
    if value not in ("plain", HASH_PARTITIONED):
        raise ValueError(f"{SCHEMA_SETTING} must be plain or {HASH_PARTITIONED}, not {value!r}")
    return value == HASH_PARTITIONED


async def partition_by_hash(url: str, partitions: int = PARTITIONS) -> None:
    """Make every table of the migrated, empty database at ``url`` hash-partitioned."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await PARTITIONING.create_partitioning_function(conn)
            await PARTITIONING.partition_by_hash(
                conn,
                tables=list(DISTRIBUTION),
                keys=list(DISTRIBUTION.values()),
                partitions=partitions,
            )
    finally:
        await conn.close()
